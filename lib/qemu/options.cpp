#include "qemu/options.hpp"

#include <set>

#include "core/error.hpp"

namespace lsm::qemu {

bool takes_value(const std::string& name) {
  // QEMU 7.2's options without an argument (qemu-options.hx, no HAS_ARG).
  static const std::set<std::string> flags{
      "S",          "s",           "snapshot",     "nographic",          "daemonize",
      "nodefaults", "no-user-config", "no-reboot", "no-shutdown",        "enable-kvm",
      "no-acpi",    "no-hpet",     "no-fd-bootchk", "win2k-hack",        "full-screen",
      "portrait",   "mem-prealloc", "usb",         "singlestep",         "preconfig",
      "only-migratable", "xen-attach", "xen-domid-restrict", "enable-sync-profile",
      "version",    "h",           "help",         "audio-help",         "alt-grab",
      "ctrl-grab",  "no-quit",     "no-frame",     "sdl",                "curses",
      "enable-fips", "nodefconfig", "semihosting", "old-param"};
  return !flags.contains(name);
}

Cmdline parse_cmdline(const std::vector<std::string>& argv) {
  if (argv.empty()) throw Error("the QEMU command line is empty");
  Cmdline cmd{argv[0], {}};
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-')
      throw Error("QEMU command line: '" + arg + "' is not an option");
    std::string name = arg.substr(arg.rfind("--", 0) == 0 ? 2 : 1);
    Option o{name, std::nullopt};
    if (takes_value(name)) {
      if (i + 1 == argv.size()) throw Error("QEMU command line: -" + name + " has no value");
      o.value = argv[++i];
    }
    cmd.options.push_back(std::move(o));
  }
  return cmd;
}

std::vector<std::string> to_argv(const Cmdline& cmd) {
  std::vector<std::string> argv{cmd.program};
  for (const auto& o : cmd.options) {
    argv.push_back("-" + o.name);
    if (o.value) argv.push_back(*o.value);
  }
  return argv;
}

std::vector<SubOption> split_suboptions(const std::string& value) {
  std::vector<SubOption> out;
  std::string item;
  auto flush = [&] {
    auto eq = item.find('=');
    if (eq == std::string::npos)
      out.push_back({"", item});
    else
      out.push_back({item.substr(0, eq), item.substr(eq + 1)});
    item.clear();
  };
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != ',') {
      item += value[i];
    } else if (i + 1 < value.size() && value[i + 1] == ',') {
      item += ',';
      ++i;
    } else {
      flush();
    }
  }
  flush();
  return out;
}

}  // namespace lsm::qemu

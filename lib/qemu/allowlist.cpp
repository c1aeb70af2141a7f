#include "qemu/allowlist.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "core/error.hpp"
#include "policy/places.hpp"

namespace lsm::qemu {

namespace {

using policy::Policy;

// What a path in a value is to QEMU, and so where the policy lets it be.
enum class Kind { kImage, kBoot, kFile, kProgram };

// Options whose whole value is one path.
const std::map<std::string, Kind>& path_options() {
  static const std::map<std::string, Kind> m{
      {"kernel", Kind::kBoot},  {"initrd", Kind::kBoot},  {"dtb", Kind::kBoot},
      {"bios", Kind::kBoot},    {"L", Kind::kBoot},       {"cdrom", Kind::kImage},
      {"hda", Kind::kImage},    {"hdb", Kind::kImage},    {"hdc", Kind::kImage},
      {"hdd", Kind::kImage},    {"fda", Kind::kImage},    {"fdb", Kind::kImage},
      {"mtdblock", Kind::kImage}, {"sd", Kind::kImage},   {"pflash", Kind::kImage},
      {"pidfile", Kind::kFile}, {"mem-path", Kind::kFile}, {"D", Kind::kFile},
      {"readconfig", Kind::kFile}, {"writeconfig", Kind::kFile}};
  return m;
}

// Options in the legacy character device syntax: "file:PATH", "unix:PATH,...".
bool legacy_chardev(const std::string& option) {
  static const std::set<std::string> s{"serial", "parallel", "monitor",  "qmp",
                                       "qmp-pretty", "virtioconsole", "debugcon", "gdb",
                                       "vnc"};
  return s.contains(option);
}

// Sub-option keys (the last part of a dotted key) that name a host file.
bool file_key(const std::string& leaf) {
  static const std::set<std::string> s{"path", "logfile", "pidfile", "file",   "filename",
                                       "dir",  "sock",    "sysfsdev", "mem-path", "smb",
                                       "tftp", "splash",  "data-file"};
  return s.contains(leaf);
}

// Where a sub-option's value points, if it names a host file or program.
std::optional<Kind> kind_of(const std::string& option, const std::string& leaf,
                            const std::string& value) {
  if (value.empty()) return std::nullopt;
  bool block = option == "drive" || option == "blockdev";
  if (block && (leaf == "file" || leaf == "filename" || leaf == "data-file")) {
    // In -blockdev, file= names another node unless it is a path.
    if (option == "blockdev" && leaf == "file" && value.find('/') == std::string::npos)
      return std::nullopt;
    return Kind::kImage;
  }
  if (leaf == "script" || leaf == "downscript" || leaf == "helper")
    return value == "no" ? std::nullopt : std::optional(Kind::kProgram);
  if (option == "plugin" && (leaf.empty() || leaf == "file")) return Kind::kProgram;
  // A bare ROM name is one of QEMU's own data files.
  if (leaf == "romfile")
    return value.find('/') == std::string::npos ? std::nullopt : std::optional(Kind::kBoot);
  if (file_key(leaf) || value[0] == '/') return Kind::kFile;
  return std::nullopt;
}

class Checker {
 public:
  Checker(const Policy& p, const std::string& run_dir) : p_(p), run_dir_(run_dir) {}

  void check(const Option& o) const {
    if (std::find(p_.qemu_options.begin(), p_.qemu_options.end(), o.name) ==
        p_.qemu_options.end())
      throw Error("QEMU option -" + o.name + " is not allowed here " +
                  policy::allow_hint(p_, "qemu_options"));
    if (!o.value || o.name == "append") return;  // -append is the guest's own command line
    const std::string& v = *o.value;
    if (auto k = path_options().find(o.name); k != path_options().end())
      return check_path(o, "", v, k->second);
    if (legacy_chardev(o.name) && legacy_path(o, v)) return;
    if (!v.empty() && v[0] == '{')
      throw Error("QEMU option -" + o.name +
                  ": a JSON value is not accepted here; start QEMU with key=value options");
    for (const auto& s : split_suboptions(v)) check_suboption(o, s);
  }

 private:
  // "[mon:]file:PATH", "pipe:PATH", "unix:PATH,server=on,...", or a
  // device "/dev/..."; false when the value names no file (tcp:, stdio,
  // pty, null, ...) and is checked as sub-options instead.
  bool legacy_path(const Option& o, std::string v) const {
    if (v.rfind("mon:", 0) == 0) v.erase(0, 4);
    // file: and pipe: take the rest as the path, commas and all.
    for (const char* prefix : {"file:", "pipe:"})
      if (v.rfind(prefix, 0) == 0) {
        check_path(o, "", v.substr(std::string(prefix).size()), Kind::kFile);
        return true;
      }
    if (!v.empty() && v[0] == '/') {
      check_path(o, "", v, Kind::kFile);
      return true;
    }
    if (v.rfind("unix:", 0) != 0) return false;
    // unix: reads sub-options, the first one implicitly path=.
    auto subs = split_suboptions(v.substr(5));
    for (std::size_t i = 0; i < subs.size(); ++i)
      if (i == 0 || file_key(subs[i].key)) check_path(o, subs[i].key, subs[i].value, Kind::kFile);
    return true;
  }

  void check_suboption(const Option& o, const SubOption& s) const {
    std::string leaf = s.key.substr(s.key.rfind('.') + 1);
    if ((o.name == "netdev" || o.name == "nic" || o.name == "net") && leaf == "guestfwd" &&
        s.value.find("cmd:") != std::string::npos)
      throw Error("QEMU option -" + o.name + ": guestfwd=" + s.value +
                  " runs a command; no host policy allows it");
    if (auto kind = kind_of(o.name, leaf, s.value)) check_path(o, s.key, s.value, *kind);
  }

  void check_path(const Option& o, const std::string& key, const std::string& path,
                  Kind kind) const {
    std::string what = "QEMU option -" + o.name + ": " + (key.empty() ? "" : key + "=") + path;
    switch (kind) {
      case Kind::kImage:
        if (!policy::inside_any(path, p_.image_roots))
          throw Error(what + " is outside the image roots " +
                      policy::allow_hint(p_, "image_roots"));
        return;
      case Kind::kBoot:
        if (!policy::inside_any(path, p_.boot_dirs))
          throw Error(what + " is outside the boot file directories " +
                      policy::allow_hint(p_, "boot_dirs"));
        return;
      case Kind::kFile:
        if (!policy::inside(path, run_dir_) && !policy::inside_any(path, p_.file_dirs))
          throw Error(what + " is a host file outside the run directory " + run_dir_ + " " +
                      policy::allow_hint(p_, "file_dirs"));
        return;
      case Kind::kProgram:
        if (std::find(p_.helpers.begin(), p_.helpers.end(), path) == p_.helpers.end())
          throw Error(what + " would start a program that is not an allowed helper " +
                      policy::allow_hint(p_, "helpers"));
        return;
    }
  }

  const Policy& p_;
  std::string run_dir_;
};

}  // namespace

std::string allowed_emulator(const std::string& argv0, const Policy& p) {
  for (const auto& e : p.emulators)
    if (argv0 == e || (argv0.find('/') == std::string::npos &&
                       argv0 == e.substr(e.rfind('/') + 1)))
      return e;
  throw Error("QEMU binary '" + argv0 + "' is not an allowed emulator " +
              policy::allow_hint(p, "emulators"));
}

void check_options(const Cmdline& cmd, const Policy& p, const std::string& run_dir) {
  Checker c(p, run_dir);
  for (const auto& o : cmd.options) c.check(o);
}

}  // namespace lsm::qemu

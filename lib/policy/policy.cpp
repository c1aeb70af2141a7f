#include "policy/policy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"
#include "policy/places.hpp"

namespace lsm::policy {

namespace {

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string strip_trailing_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

bool parse_bool(const std::string& v, bool& out) {
  if (v == "yes" || v == "true") return out = true, true;
  if (v == "no" || v == "false") return out = false, true;
  return false;
}

// How each key reads its values; where says "FILE:LINE: key" for errors.
using Setter = std::function<void(Policy&, const std::vector<std::string>& values,
                                  const std::string& where)>;

Setter paths(std::vector<std::string> Policy::*list) {
  return [list](Policy& p, const std::vector<std::string>& values, const std::string& where) {
    for (const auto& v : values) {
      std::string path = strip_trailing_slashes(v);
      if (!normal_absolute(path))
        throw Error(where + ": '" + v + "' is not an absolute path without '.' or '..'");
      (p.*list).push_back(path);
    }
  };
}

Setter names(std::vector<std::string> Policy::*list) {
  return [list](Policy& p, const std::vector<std::string>& values, const std::string& where) {
    for (const auto& v : values) {
      if (v.empty() || v[0] == '-')
        throw Error(where + ": '" + v + "': name options without their dash");
      (p.*list).push_back(v);
    }
  };
}

Setter flag(bool Policy::*member) {
  return [member](Policy& p, const std::vector<std::string>& values, const std::string& where) {
    if (values.size() != 1 || !parse_bool(values[0], p.*member))
      throw Error(where + ": expected yes or no");
  };
}

Setter one_path(std::string Policy::*member) {
  return [member](Policy& p, const std::vector<std::string>& values, const std::string& where) {
    if (values.size() != 1 || !normal_absolute(strip_trailing_slashes(values[0])))
      throw Error(where + ": expected one absolute path");
    p.*member = strip_trailing_slashes(values[0]);
  };
}

// Every key, and the list it fills (cleared the first time the file
// names it, so the file replaces the default rather than adding to it).
struct Key {
  Setter set;
  std::vector<std::string> Policy::*list = nullptr;
};

const std::map<std::string, Key>& keys() {
  static const std::map<std::string, Key> k{
      {"image_roots", {paths(&Policy::image_roots), &Policy::image_roots}},
      {"volume_groups", {names(&Policy::volume_groups), &Policy::volume_groups}},
      {"emulators", {paths(&Policy::emulators), &Policy::emulators}},
      {"qemu_options", {names(&Policy::qemu_options), &Policy::qemu_options}},
      {"boot_dirs", {paths(&Policy::boot_dirs), &Policy::boot_dirs}},
      {"file_dirs", {paths(&Policy::file_dirs), &Policy::file_dirs}},
      {"helpers", {paths(&Policy::helpers), &Policy::helpers}},
      {"xen_allow_bootloader", {flag(&Policy::xen_allow_bootloader)}},
      {"xen_allow_device_model_override", {flag(&Policy::xen_allow_device_model_override)}},
      {"xen_script_dir", {one_path(&Policy::xen_script_dir)}},
  };
  return k;
}

std::string read_policy_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw SystemError("reading the host policy " + path, errno);
  FdReader r(fd.get(), path);
  std::string all;
  for (std::string s; !(s = r.read_some(65536, Deadline::never())).empty();) all += s;
  return all;
}

}  // namespace

Policy defaults() {
  Policy p;
  p.image_roots = {"/var/lib/libvirt/images", "/var/lib/xen/images", "/var/lib/lsm/images",
                   "/srv/vm"};
  p.emulators = {"/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-system-i386",
                 "/usr/bin/qemu-system-aarch64", "/usr/bin/qemu-system-arm",
                 "/usr/bin/qemu-system-ppc64",  "/usr/bin/qemu-system-riscv64",
                 "/usr/bin/qemu-system-s390x"};
  p.qemu_options = {"name",   "uuid",    "machine",   "M",          "accel",      "enable-kvm",
                    "cpu",    "smp",     "m",         "numa",       "overcommit", "mem-prealloc",
                    "rtc",    "boot",    "global",    "nodefaults", "no-user-config",
                    "no-reboot",         "no-shutdown", "action",   "msg",        "sandbox",
                    "display", "nographic", "vga",    "vnc",        "usb",        "k",
                    "device", "drive",   "blockdev",  "cdrom",  "netdev",     "nic",        "object",
                    "chardev", "serial", "parallel",  "mon",        "monitor",    "qmp",
                    "pidfile", "kernel", "initrd",    "append",     "dtb",        "bios",
                    "L",      "S"};
  p.boot_dirs = {"/boot", "/usr/share/qemu", "/usr/share/seabios", "/usr/share/ovmf",
                 "/usr/share/OVMF", "/usr/lib/ipxe/qemu", "/var/lib/lsm/boot"};
  p.helpers = {"/etc/qemu-ifup", "/etc/qemu-ifdown", "/usr/lib/qemu/qemu-bridge-helper"};
  p.xen_script_dir = "/etc/xen/scripts";
  p.origin = "built-in defaults";
  return p;
}

Policy parse(const std::string& text, const std::string& origin) {
  Policy p = defaults();
  p.origin = origin;
  std::map<std::string, bool> named;
  std::istringstream lines(text);
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    ++n;
    std::string where = origin + ":" + std::to_string(n);
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    auto eq = line.find('=');
    std::vector<std::string> key = words(line.substr(0, eq));
    if (key.empty() && eq == std::string::npos) continue;
    if (key.size() != 1 || eq == std::string::npos)
      throw Error(where + ": expected 'KEY = VALUE...'");
    std::vector<std::string> values = words(line.substr(eq + 1));
    auto k = keys().find(key[0]);
    if (k == keys().end()) throw Error(where + ": unknown key '" + key[0] + "'");
    if (k->second.list && !named[key[0]]) (p.*(k->second.list)).clear();
    named[key[0]] = true;
    k->second.set(p, values, where + ": " + key[0]);
  }
  return p;
}

Policy load(const std::string& file) {
  std::string path = file;
  if (path.empty())
    if (const char* env = std::getenv("LSM_POLICY"); env && *env) path = env;
  if (path.empty()) {
    if (::access(kDefaultPath, F_OK) != 0 && errno == ENOENT) return defaults();
    path = kDefaultPath;
  }
  return parse(read_policy_file(path), path);
}

std::string allow_hint(const Policy& p, const std::string& key) {
  return "(" + key + " in the host policy, " + p.origin + ")";
}

}  // namespace lsm::policy

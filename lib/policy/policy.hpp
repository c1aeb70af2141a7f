// The host policy: what a destination host lets a migration it receives
// create and start. The source describes a VM as it runs there (its QEMU
// command line, its libxl configuration), and whoever controls the source
// QEMU process controls that description; the destination runs as root
// only what this policy allows (docs/policy.md, etc/lsm/policy.conf).
//
// The file is lines of `key = value ...`: values are separated by blanks,
// a repeated key adds to its list, `#` starts a comment. A list key given
// in the file replaces its built-in default (so `image_roots =` with no
// value allows none); a key the file does not name keeps its default.
#pragma once

#include <string>
#include <vector>

namespace lsm::policy {

inline constexpr const char* kDefaultPath = "/etc/lsm/policy.conf";

struct Policy {
  // Directories every disk image must resolve inside (after --map).
  std::vector<std::string> image_roots;
  // LVM volume groups in which a migration may create (or with --reuse
  // take) logical volumes, /dev/VG/LV, for its disks.
  std::vector<std::string> volume_groups;
  // QEMU binaries a destination may start, by absolute path.
  std::vector<std::string> emulators;
  // QEMU options (names without the dash) that may be replayed.
  std::vector<std::string> qemu_options;
  // Where -kernel, -initrd, -bios, -dtb, -L and ROM files may come from.
  std::vector<std::string> boot_dirs;
  // Besides the run directory, where QEMU may open or create other files
  // (chardev files and sockets, pidfile, memory backends).
  std::vector<std::string> file_dirs;
  // Programs QEMU may run (-netdev tap script=/downscript=, bridge helper=).
  std::vector<std::string> helpers;
  // Xen: whether a domain may name a bootloader or its own device model
  // (device_model_override, extra device model arguments), and where its
  // vif and block hotplug scripts must be.
  bool xen_allow_bootloader = false;
  bool xen_allow_device_model_override = false;
  std::string xen_script_dir;
  // Where it came from, for messages: the file, or "built-in defaults".
  std::string origin;
};

// The policy of a host without a policy file: only the usual places.
Policy defaults();

// Parses the text of a policy file; origin names it in errors
// ("FILE:LINE: ...") and in the policy's refusals.
Policy parse(const std::string& text, const std::string& origin);

// The policy of this host: file if not empty, else $LSM_POLICY if set,
// else kDefaultPath. A file named by the first two must exist; a missing
// kDefaultPath means the defaults.
Policy load(const std::string& file);

// "(KEY in ORIGIN)": the hint every refusal ends with.
std::string allow_hint(const Policy& p, const std::string& key);

}  // namespace lsm::policy

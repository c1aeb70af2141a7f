// The host policy applied to a received libxl domain configuration, before
// libxl sees it: libxl would start what it names as root on this host
// (bootloader, device model, hotplug scripts) and open the files it names.
#pragma once

#include <set>
#include <string>

#include "policy/policy.hpp"

namespace lsm::xen {

// Throws, naming the setting and the policy key that would allow it,
// unless the policy allows config (libxl's JSON): every disk inside the
// image roots (the disks lsm copies, by vdev in copied, are checked where
// their targets are planned), vif and block scripts only from the Xen
// script directory, serial files only in run_dir or the file directories,
// no bootloader and no device model of the domain's own.
void check_config(const std::string& config, const std::set<std::string>& copied,
                  const policy::Policy& p, const std::string& run_dir);

}  // namespace lsm::xen

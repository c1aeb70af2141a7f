// xl migrate -C: a configuration file the destination uses instead of the
// running domain's. As with xl, it replaces the whole configuration; lsm
// also takes each copied disk's path on the destination from it, matched
// by the guest's device name (vdev), since the images move with the VM.
#pragma once

#include <string>
#include <vector>

#include "proto/disk.hpp"

namespace lsm::xen {

// The file in libxl's JSON, as xl itself parses it (xl create --dryrun).
std::string xl_config_json(const std::string& file);

// Checks that config_json (from origin) describes the running domain name
// of type ("pv", "pvh", "hvm") with the same disks, and points each of
// disks at its path there (Disk::target). Throws naming what differs: a
// replacement cannot rename, retype, add or drop a disk of a live guest.
void apply_config_override(const std::string& config_json, const std::string& origin,
                           const std::string& name, const std::string& type,
                           std::vector<proto::Disk>& disks);

}  // namespace lsm::xen

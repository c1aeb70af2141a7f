// The writable disks of a running QEMU, found through query-block: no
// device names are assumed, any number of disks.
#pragma once

#include <string>
#include <vector>

#include "qmp/client.hpp"
#include "proto/disk.hpp"

namespace lsm::qemu {

// Read-only drives and empty or removable media (CD-ROMs) are left out.
// Disks whose file is in shared_paths are marked shared. Throws naming the
// disk for one lsm cannot copy (not a local file, unsupported format,
// backing chain).
std::vector<proto::Disk> list_disks(qmp::Client& qmp,
                                 const std::vector<std::string>& shared_paths);

// The disk's top node on this host, by key; throws naming the key if absent.
std::string node_for_key(qmp::Client& qmp, const std::string& key);

}  // namespace lsm::qemu

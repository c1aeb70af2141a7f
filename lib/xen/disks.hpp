// Which of a Xen domain's disks lsm can move, and how they look.
//
// Only disks whose writes all pass through the device model's QEMU can be
// mirrored from it: qdisk backends, and the emulated disks of an HVM guest
// without the Xen platform device (its blkback twin is unreachable for the
// guest). Their images are raw or qcow2 files, or LVM logical volumes
// (/dev/VG/LV, raw). A disk the dom0 kernel serves to a guest (phy:,
// blkback, tap) is refused, naming what to change.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/disk.hpp"
#include "xen/libxl_ctx.hpp"

namespace lsm::xen {

// The domain's writable disks (key: the guest's vdev, e.g. xvda), sized
// from their images. CD-ROMs and empty drives are left out.
std::vector<proto::Disk> domain_disks(Libxl& x, std::uint32_t domid, const std::string& config_json,
                                   const std::vector<std::string>& shared_paths);

}  // namespace lsm::xen

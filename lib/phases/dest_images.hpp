// Phase 1 on the destination, for any backend: where each source disk
// lands (--map, --reuse, --shared-disk), whether it fits, and creating the
// sparse target images.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "policy/policy.hpp"
#include "proto/disk.hpp"
#include "vm/dest_state.hpp"
#include "vm/path_map.hpp"

namespace lsm::phases {

struct TargetPlan {
  std::vector<proto::Disk> disks;  // as they will be on this host
  std::vector<std::pair<proto::Disk, std::string>> to_create;
};

// Checks every disk of a "vm" message against this host; throws naming
// the disk that cannot land (outside the policy's image roots, exists, no
// directory, no space, mismatch).
TargetPlan plan_targets(const std::vector<proto::Disk>& disks, const vm::PathMap& map,
                        bool reuse, const policy::Policy& policy);

// The --dry-run lines for the disks.
std::string describe_targets(const TargetPlan& plan);

// Creates the images (files, or logical volumes /dev/VG/LV), recording
// each in state (and saving it) as soon as it exists, so a rollback
// removes exactly these.
void create_images(const TargetPlan& plan, vm::DestState& state);

// Removes an image create_images made, the file or the logical volume, if
// it is still there.
void remove_image(const std::string& path);

}  // namespace lsm::phases

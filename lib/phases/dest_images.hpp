// Phase 1 on the destination, for any backend: where each source disk
// lands (--map, --reuse, --shared-disk), whether it fits, and creating the
// sparse target images.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "json/json.hpp"
#include "vm/dest_state.hpp"
#include "vm/disk.hpp"
#include "vm/path_map.hpp"

namespace lsm::phases {

struct TargetPlan {
  std::vector<vm::Disk> disks;  // as they will be on this host
  std::vector<std::pair<vm::Disk, std::string>> to_create;
};

// Checks every disk of a "vm" message against this host; throws naming
// the disk that cannot land (exists, no directory, no space, mismatch).
TargetPlan plan_targets(const json::Value& disks, const vm::PathMap& map, bool reuse);

// The --dry-run lines for the disks.
std::string describe_targets(const TargetPlan& plan);

// Creates the images, recording each in state (saved to state_path) as
// soon as it exists, so a rollback removes exactly these.
void create_images(const TargetPlan& plan, vm::DestState& state, const std::string& state_path);

bool path_exists(const std::string& path);

// The "prepared" answer: qmp is the destination QEMU's socket, if any.
void write_prepared(int out_fd, const std::string& name, const std::string& qmp,
                    const std::vector<std::string>& created);

}  // namespace lsm::phases

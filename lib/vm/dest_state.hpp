// What the destination created for an incoming migration, saved in
// $LSM_RUN_DIR/lsm/NAME.state.json so a later tool (or a later rollback after
// the ssh link broke) knows exactly what to remove: only what lsm made.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "proto/disk.hpp"

namespace lsm::vm {

struct DestState {
  std::string path;  // where it is kept (not itself saved)
  std::string name;
  std::string backend;  // the backend::kind_named() that prepared it
  std::string qmp;
  pid_t qemu_pid = 0;
  std::string xen_config;  // xen: the source's libxl domain configuration
  std::vector<pid_t> nbd_pids;  // xen: the qemu-nbd servers of the disks
  bool was_running = true;  // the source guest's run state to restore
  std::vector<std::string> created;  // image files this migration made
  std::vector<proto::Disk> disks;  // disks as mapped on this host
};

// Written aside, fsynced and renamed: a crash never leaves half a file.
void save(const DestState& s);
// Throws naming the path and what to do if there is no migration state.
DestState load_dest_state(const std::string& path);

// The destination's commit, RUN/lsm/NAME.committed: made durable before the
// guest may run here, and kept until the source copy is gone, so that every
// later rollback or migration of the VM knows this copy may be the live one.
void mark_committed(const std::string& run_dir, const std::string& name);
bool is_committed(const std::string& run_dir, const std::string& name);
void release_commit(const std::string& run_dir, const std::string& name);

}  // namespace lsm::vm

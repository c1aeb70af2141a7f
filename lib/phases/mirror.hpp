// Phase 2: every disk mirrored to the destination over NBD until all are
// READY; the jobs then keep running inside the source's device model,
// following guest writes, until phase 3 finishes them at the switchover.
#pragma once

#include <cstdint>
#include <string>

#include "phases/phases.hpp"

namespace lsm::phases {

// Destination: serves each target image over NBD on a unix socket in the
// run directory (never TCP) and writes "exports" to out_fd.
void export_disks(const DestOptions& o, int out_fd);

struct MirrorOptions : SourceOptions {
  // Where the destination's NBD sockets are reachable here: all at socket
  // if set, else under socket_dir by their file names, else at the paths
  // the destination named (same host).
  std::string socket;
  std::string socket_dir;
  std::uint64_t bandwidth = 0;  // bytes/s for all disks together; 0: unlimited
  bool write_blocking = false;
  bool json = false;
};

// Source: reads "exports" from in_fd, mirrors every disk and returns when
// all are READY. On failure removes its jobs and nodes again.
void mirror_disks(const MirrorOptions& o, int in_fd);

}  // namespace lsm::phases

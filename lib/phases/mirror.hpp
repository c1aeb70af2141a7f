// Phase 2: every disk mirrored to the destination over NBD until all are
// READY; the jobs then keep running inside the source QEMU, tracking guest
// writes, until phase 3 finishes them at the switchover.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mirror/jobs.hpp"
#include "proto/message.hpp"
#include "qmp/client.hpp"

namespace lsm::phases {

struct ExportOptions {
  std::string name;
  std::string run_dir;
};

// Destination: serves each target image over NBD on a unix socket in the
// run directory (never TCP) and writes "exports" to out_fd.
void export_disks(const ExportOptions& o, int out_fd);

struct MirrorOptions {
  std::string name;
  std::string backend;  // "qemu" or "xen"
  std::string run_dir;
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

// For the backends. The targets an "exports" message names, each disk's
// source node found by node_of(key):
std::vector<mirror::MirrorTarget> mirror_targets(
    const MirrorOptions& o, const proto::Message& exports,
    const std::function<std::string(const std::string& key)>& node_of);

// Runs fn on a QMP connection to the source device model.
using QmpUse = std::function<void(const std::function<void(qmp::Client&)>&)>;

// Starts every mirror and returns once all are READY, sharing --bandwidth;
// on failure removes the jobs again.
void run_mirrors(const QmpUse& with_qmp, const std::vector<mirror::MirrorTarget>& targets,
                 const MirrorOptions& o);

}  // namespace lsm::phases

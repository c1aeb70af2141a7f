// The source side of disk mirroring: one NBD client node and one
// blockdev-mirror job per disk, named with fixed prefixes so any later
// tool (or a rollback after a crash) can find them through QMP alone.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/deadline.hpp"
#include "qmp/client.hpp"

namespace lsm::mirror {

inline constexpr const char* kJobPrefix = "lsm-mirror-";
inline constexpr const char* kNodePrefix = "lsm-nbd-";

struct JobInfo {
  std::string id;
  std::uint64_t offset = 0;
  std::uint64_t len = 0;
  bool ready = false;
  std::string status;
  std::string error;  // why a concluded job failed
};

struct MirrorTarget {
  std::string key;          // the disk's key, for messages
  std::string node;         // source node to copy
  std::string socket;       // NBD unix socket reaching the destination
  std::string export_name;  // the destination's export for this disk
};

// Adds the NBD node and starts the job for target number index.
void start(qmp::Client& qmp, const MirrorTarget& t, int index, std::uint64_t speed,
           bool write_blocking);

// lsm's jobs, in index order.
std::vector<JobInfo> list(qmp::Client& qmp);

// The disks being mirrored: their keys, in job order (job i copies disks[i]).
using Disks = std::vector<std::string>;

// "disk KEY (mirror job ID)" for messages; the bare job id if not one of ours.
std::string describe_job(const Disks& disks, const std::string& job);

// Throws unless exactly one lsm job per disk runs, none failed and all are
// READY: phase 3 must never switch over a disk that is not being mirrored.
// Returns the bytes the mirrors have yet to copy of the guest's writes.
std::uint64_t require_all_ready(qmp::Client& qmp, const Disks& disks);

void set_speed(qmp::Client& qmp, const std::string& job, std::uint64_t speed);

// Throws naming the disk if a BLOCK_JOB_ERROR or a premature end was seen.
void check_events(qmp::Client& qmp, const Disks& disks);

// Waits up to timeout for one of lsm's jobs to turn READY; true if one did.
bool wait_ready_event(qmp::Client& qmp, std::chrono::milliseconds timeout);

// The consistent point: with the guest paused, checks that every disk's job
// is still READY, lets each copy what is left and end within deadline
// (block-job-cancel after READY never pivots the source). Returns the bytes
// the jobs copied.
std::uint64_t finish_all(qmp::Client& qmp, const Disks& disks, Deadline deadline);

// After finish_all: dismisses the concluded jobs and removes the NBD nodes.
void release_all(qmp::Client& qmp);

// Abandons every lsm job and NBD node (force-cancel); used on rollback.
void abort_all(qmp::Client& qmp);

}  // namespace lsm::mirror

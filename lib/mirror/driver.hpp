// Driving a migration's mirror jobs, the same for every backend: start one
// per disk, share one bandwidth budget among them, return once all are
// READY, and check them again before the switchover. mirror/jobs.hpp holds
// the single QMP block-job calls this is made of.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mirror/jobs.hpp"
#include "qmp/client.hpp"

namespace lsm::mirror {

// Runs fn on a QMP connection to the device model the mirrors run in (for
// Xen a short connection under libxl's lock, so it is opened per use).
using QmpUse = std::function<void(const std::function<void(qmp::Client&)>&)>;

// Refuses a VM that runs a block job of its own: lsm's would collide.
void refuse_other_jobs(qmp::Client& qmp, const std::string& vm_name);

struct RunOptions {
  std::uint64_t bandwidth = 0;  // bytes/s for all disks together; 0: unlimited
  bool write_blocking = false;
  bool json = false;  // progress as JSON lines
  // Between looks, wait on the connection for a job to turn READY rather
  // than sleep: only where the connection is lsm's alone, as it blocks
  // every other client of the monitor meanwhile.
  bool wait_on_events = false;
};

// Starts every mirror and returns once all are READY; on failure removes
// the jobs and nodes again.
void run_until_ready(const QmpUse& with_qmp, const std::vector<MirrorTarget>& targets,
                     const RunOptions& o);

// Before the RAM phase: throws unless each disk's job runs, READY; then
// gives them `bandwidth` to share (0: unlimited).
void ready_for_switchover(qmp::Client& qmp, const Disks& disks, std::uint64_t bandwidth);

}  // namespace lsm::mirror

#include "mirror/driver.hpp"

#include <chrono>
#include <thread>

#include "core/log.hpp"
#include "proto/progress.hpp"

namespace lsm::mirror {

using namespace std::chrono_literals;

namespace {

// One budget for all disks: a job still copying gets an equal share of
// what the READY jobs (which only follow guest writes) leave, and the
// shares always sum to the limit.
void share_bandwidth(qmp::Client& qmp, const std::vector<JobInfo>& jobs, std::uint64_t total,
                     std::vector<std::uint64_t>& speeds) {
  if (total == 0) return;
  std::size_t ready = 0;
  for (const auto& j : jobs) ready += j.ready;
  std::uint64_t n = jobs.size();
  std::uint64_t ready_share = ready == n ? total / n : total / (2 * n);
  std::uint64_t copy_share = ready == n ? 0 : (total - ready * ready_share) / (n - ready);
  speeds.resize(jobs.size(), 0);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    std::uint64_t want = jobs[i].ready ? ready_share : copy_share;
    if (want != speeds[i]) {
      set_speed(qmp, jobs[i].id, want);
      speeds[i] = want;
    }
  }
}

// A mirror that has copied everything once but never becomes READY is
// chasing a guest that writes faster than the copy can go: tell the
// operator what helps instead of waiting silently.
void warn_if_not_converging(std::chrono::steady_clock::time_point start, std::uint64_t done,
                            std::uint64_t total, bool& warned) {
  if (warned || std::chrono::steady_clock::now() - start < 60s || done < total) return;
  log::notice("the guest writes faster than its disks can be copied; consider "
              "--write-blocking or a higher --bandwidth");
  warned = true;
}

// One look at every job; true once all are READY.
bool poll_jobs(qmp::Client& qmp, const Disks& disks, std::uint64_t bandwidth,
               std::vector<std::uint64_t>& speeds, proto::Progress& progress,
               std::chrono::steady_clock::time_point start, bool& warned) {
  check_events(qmp, disks);
  auto jobs = list(qmp);
  if (jobs.size() != disks.size())
    throw Error("expected " + std::to_string(disks.size()) + " mirror jobs, QEMU has " +
                std::to_string(jobs.size()));
  std::uint64_t done = 0, total = 0;
  bool all_ready = true;
  for (const auto& j : jobs) {
    if (!j.error.empty() || j.status == "concluded")
      throw Error(describe_job(disks, j.id) + " failed (" + j.status +
                  (j.error.empty() ? "" : ": " + j.error) + ")");
    done += j.offset;
    total += j.len;
    all_ready = all_ready && j.ready;
  }
  share_bandwidth(qmp, jobs, bandwidth, speeds);
  if (all_ready) {
    progress.finish(done, total, "all disks ready");
  } else {
    progress.update(done, total);
    warn_if_not_converging(start, done, total, warned);
  }
  return all_ready;
}

}  // namespace

void refuse_other_jobs(qmp::Client& qmp, const std::string& vm_name) {
  auto jobs = qmp.execute("query-block-jobs");
  if (jobs.Size() > 0)
    throw Error("domain '" + vm_name + "' already has a block job (" +
                json::string_at(jobs[0], "device", "query-block-jobs[0]") +
                "); wait for it or cancel it first");
}

void run_until_ready(const QmpUse& with_qmp, const std::vector<MirrorTarget>& targets,
                     const RunOptions& o) {
  // Nothing to mirror (every disk shared): the device model may not even
  // have a monitor.
  if (targets.empty()) return;
  std::uint64_t n = targets.size();
  Disks disks;
  for (const auto& t : targets) disks.push_back(t.key);
  try {
    with_qmp([&](qmp::Client& qmp) {
      int index = 0;
      for (const auto& t : targets) start(qmp, t, index++, o.bandwidth / n, o.write_blocking);
    });
    proto::Progress progress("disks", o.json);
    auto started = std::chrono::steady_clock::now();
    bool warned = false;
    std::vector<std::uint64_t> speeds(n, o.bandwidth / n);
    for (bool all_ready = false; !all_ready;) {
      with_qmp([&](qmp::Client& qmp) {
        all_ready = poll_jobs(qmp, disks, o.bandwidth, speeds, progress, started, warned);
        // A job turning READY ends the wait at once: the last one ends
        // phase 2 then, not at the next look (up to 200 ms later).
        if (!all_ready && o.wait_on_events) wait_ready_event(qmp, 200ms);
      });
      if (!all_ready && !o.wait_on_events) std::this_thread::sleep_for(200ms);
    }
  } catch (...) {
    try {
      with_qmp([](qmp::Client& qmp) { abort_all(qmp); });
    } catch (const std::exception& e) {
      log::error("cleaning up mirrors after failure: " + lsm::describe(e));
    }
    throw;
  }
}

void ready_for_switchover(qmp::Client& qmp, const Disks& disks, std::uint64_t bandwidth) {
  require_all_ready(qmp, disks);
  if (bandwidth == 0 || disks.empty()) return;
  for (const auto& j : list(qmp)) set_speed(qmp, j.id, bandwidth / disks.size());
}

}  // namespace lsm::mirror

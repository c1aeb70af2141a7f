#include "mirror/jobs.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/log.hpp"

namespace lsm::mirror {

using namespace std::chrono_literals;

namespace {

bool has_prefix(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string job_of_event(const qmp::Event& e) {
  const json::Value* d = json::find(e.data(), "device");
  return d && d->IsString() ? d->GetString() : "";
}

void remove_nodes(qmp::Client& qmp) {
  auto nodes = qmp.execute("query-named-block-nodes");
  for (const auto& n : nodes.GetArray()) {
    const json::Value* name = json::find(n, "node-name");
    if (!name || !name->IsString() || !has_prefix(name->GetString(), kNodePrefix)) continue;
    json::Document args(rapidjson::kObjectType);
    json::add(args, "node-name", std::string(name->GetString()), args.GetAllocator());
    with_context(std::string("removing NBD node ") + name->GetString(),
                 [&] { qmp.execute("blockdev-del", &args); });
  }
}

void dismiss(qmp::Client& qmp, const std::string& job) {
  json::Document args(rapidjson::kObjectType);
  json::add(args, "id", job, args.GetAllocator());
  with_context("dismissing mirror job " + job, [&] { qmp.execute("job-dismiss", &args); });
}

}  // namespace

std::string describe_job(const Disks& disks, const std::string& job) {
  if (has_prefix(job, kJobPrefix)) {
    std::string index = job.substr(std::strlen(kJobPrefix));
    if (!index.empty() && index.size() < 6 &&
        std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      std::size_t i = std::stoul(index);
      if (i < disks.size()) return "disk " + disks[i] + " (mirror job " + job + ")";
    }
  }
  return "mirror job " + job;
}

void start(qmp::Client& qmp, const MirrorTarget& t, int index, std::uint64_t speed,
           bool write_blocking) {
  std::string node = kNodePrefix + std::to_string(index);
  std::string job = kJobPrefix + std::to_string(index);
  with_context("disk " + t.key + ": connecting to the destination's NBD export", [&] {
    json::Document args(rapidjson::kObjectType);
    auto& a = args.GetAllocator();
    json::add(args, "driver", "nbd", a);
    json::add(args, "node-name", node, a);
    json::Value server(rapidjson::kObjectType);
    json::add(server, "type", "unix", a);
    json::add(server, "path", t.socket, a);
    json::add(args, "server", std::move(server), a);
    json::add(args, "export", t.export_name, a);
    qmp.execute("blockdev-add", &args);
  });
  with_context("disk " + t.key + ": starting blockdev-mirror", [&] {
    json::Document args(rapidjson::kObjectType);
    auto& a = args.GetAllocator();
    json::add(args, "job-id", job, a);
    json::add(args, "device", t.node, a);
    json::add(args, "target", node, a);
    json::add(args, "sync", "full", a);
    json::add(args, "speed", speed, a);
    json::add(args, "copy-mode", write_blocking ? "write-blocking" : "background", a);
    // A job that fails stays listed (concluded, with its error) until lsm
    // dismisses it, so no check can mistake a vanished mirror for none.
    json::add(args, "auto-dismiss", false, a);
    qmp.execute("blockdev-mirror", &args);
  });
}

std::vector<JobInfo> list(qmp::Client& qmp) {
  auto jobs = qmp.execute("query-block-jobs");
  std::vector<JobInfo> out;
  for (rapidjson::SizeType i = 0; i < jobs.Size(); ++i) {
    std::string path = "query-block-jobs[" + std::to_string(i) + "]";
    JobInfo j;
    j.id = json::string_at(jobs[i], "device", path);
    if (!has_prefix(j.id, kJobPrefix)) continue;
    j.offset = json::u64_at(jobs[i], "offset", path);
    j.len = json::u64_at(jobs[i], "len", path);
    j.ready = json::bool_at(jobs[i], "ready", path);
    j.status = json::string_at(jobs[i], "status", path);
    const json::Value* err = json::find(jobs[i], "error");
    if (err && err->IsString()) j.error = err->GetString();
    out.push_back(j);
  }
  std::sort(out.begin(), out.end(), [](const JobInfo& a, const JobInfo& b) {
    return std::stoi(a.id.substr(std::strlen(kJobPrefix))) <
           std::stoi(b.id.substr(std::strlen(kJobPrefix)));
  });
  return out;
}

std::uint64_t require_all_ready(qmp::Client& qmp, const Disks& disks) {
  auto jobs = list(qmp);
  if (jobs.size() != disks.size())
    throw Error("phase 2 mirrored " + std::to_string(disks.size()) + " disk(s) but " +
                std::to_string(jobs.size()) + " mirror job(s) are running; roll back and retry");
  for (const auto& j : jobs) {
    if (!j.error.empty() || j.status == "concluded" || j.status == "aborting")
      throw Error(describe_job(disks, j.id) + " failed (" + j.status +
                  (j.error.empty() ? "" : ": " + j.error) + ")");
    if (!j.ready)
      throw Error(describe_job(disks, j.id) + " is not READY yet; run phase 2 (lsm-mirror) to the end first");
  }
  std::uint64_t behind = 0;
  for (const auto& j : jobs) behind += j.len - std::min(j.offset, j.len);
  return behind;
}

void set_speed(qmp::Client& qmp, const std::string& job, std::uint64_t speed) {
  json::Document args(rapidjson::kObjectType);
  json::add(args, "device", job, args.GetAllocator());
  json::add(args, "speed", speed, args.GetAllocator());
  qmp.execute("block-job-set-speed", &args);
}

void check_events(qmp::Client& qmp, const Disks& disks) {
  auto mine = [](const qmp::Event& e) { return has_prefix(job_of_event(e), kJobPrefix); };
  for (const char* name : {"BLOCK_JOB_ERROR", "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED"}) {
    if (auto e = qmp.next_event(name, 1ms, mine)) {
      // COMPLETED and CANCELLED carry "error"; BLOCK_JOB_ERROR the failed
      // operation ("write" to the destination, "read" from the source).
      const json::Value* err = json::find(e->data(), "error");
      const json::Value* op = json::find(e->data(), "operation");
      std::string why = err && err->IsString() ? err->GetString()
                        : op && op->IsString() ? std::string(op->GetString()) + " error"
                                               : "";
      throw Error(describe_job(disks, job_of_event(*e)) + " ended early (" + name +
                  (why.empty() ? "" : ": " + why) + ")");
    }
  }
}

bool wait_ready_event(qmp::Client& qmp, std::chrono::milliseconds timeout) {
  auto mine = [](const qmp::Event& e) { return has_prefix(job_of_event(e), kJobPrefix); };
  return qmp.next_event("BLOCK_JOB_READY", timeout, mine).has_value();
}

std::uint64_t finish_all(qmp::Client& qmp, const Disks& disks, Deadline deadline) {
  // The guest is paused: whatever is listed now is what the destination
  // gets, so every expected disk must still be mirroring, in sync.
  require_all_ready(qmp, disks);
  auto jobs = list(qmp);
  for (const auto& j : jobs) {
    // What is left is bounded now, so let it go at full speed rather than
    // stretch the pause.
    set_speed(qmp, j.id, 0);
    json::Document args(rapidjson::kObjectType);
    json::add(args, "device", j.id, args.GetAllocator());
    qmp.execute("block-job-cancel", &args);
  }
  std::uint64_t bytes = 0;
  for (const auto& j : jobs) {
    auto is_job = [&](const qmp::Event& e) { return job_of_event(e) == j.id; };
    // Ends with COMPLETED when it reached a consistent copy, CANCELLED if not.
    for (;;) {
      if (deadline.expired())
        throw TimeoutError(describe_job(disks, j.id) + " did not finish within the pause allowed");
      if (auto e = qmp.next_event("BLOCK_JOB_COMPLETED", 100ms, is_job)) {
        const json::Value* err = json::find(e->data(), "error");
        if (err)
          throw Error(describe_job(disks, j.id) + " failed while finishing: " +
                      json::to_string(*err));
        std::uint64_t off = json::u64_at(e->data(), "offset", "BLOCK_JOB_COMPLETED");
        std::uint64_t len = json::u64_at(e->data(), "len", "BLOCK_JOB_COMPLETED");
        if (off != len)
          throw Error(describe_job(disks, j.id) + " ended at " + std::to_string(off) + " of " +
                      std::to_string(len) + " bytes");
        bytes += off;
        break;
      }
      if (qmp.next_event("BLOCK_JOB_CANCELLED", 0ms, is_job))
        throw Error(describe_job(disks, j.id) + " was cancelled before its copy was complete");
      if (qmp.next_event("BLOCK_JOB_ERROR", 0ms, is_job))
        throw Error(describe_job(disks, j.id) + " hit an I/O error while finishing");
    }
  }
  log::info("mirrors finished: " + std::to_string(jobs.size()) + " disk(s) consistent");
  return bytes;
}

void release_all(qmp::Client& qmp) {
  for (const auto& j : list(qmp))
    if (j.status == "concluded") dismiss(qmp, j.id);
  remove_nodes(qmp);
}

void abort_all(qmp::Client& qmp) {
  for (const auto& j : list(qmp)) {
    if (j.status == "concluded") continue;
    json::Document args(rapidjson::kObjectType);
    json::add(args, "device", j.id, args.GetAllocator());
    json::add(args, "force", true, args.GetAllocator());
    try {
      qmp.execute("block-job-cancel", &args);
    } catch (const qmp::ExecuteError& e) {
      // It may have ended on its own meanwhile; the list below tells.
      log::info("cancelling " + j.id + ": " + e.what());
    }
  }
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (auto jobs = list(qmp); !jobs.empty(); jobs = list(qmp)) {
    for (const auto& j : jobs)
      if (j.status == "concluded") dismiss(qmp, j.id);
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("mirror jobs did not go away within 60 s of force-cancel");
    std::this_thread::sleep_for(50ms);
  }
  remove_nodes(qmp);
}

}  // namespace lsm::mirror

#include "phases/mirror.hpp"

#include <chrono>
#include <thread>

#include "core/log.hpp"
#include "core/progress.hpp"
#include "mirror/jobs.hpp"
#include "phases/xen.hpp"
#include "proto/message.hpp"
#include "qemu/inventory.hpp"
#include "qmp/client.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

using namespace std::chrono_literals;

namespace {

// One budget for all disks: a job still copying gets an equal share of
// what the READY jobs (which only follow guest writes) leave, and the
// shares always sum to the limit.
void share_bandwidth(qmp::Client& qmp, const std::vector<mirror::JobInfo>& jobs,
                     std::uint64_t total, std::vector<std::uint64_t>& speeds) {
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
      mirror::set_speed(qmp, jobs[i].id, want);
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

}  // namespace

void export_disks(const ExportOptions& o, int out_fd) {
  vm::validate_name(o.name);
  std::string run = vm::run_dir(o.run_dir);
  vm::DestState s = vm::load_dest_state(vm::state_file(run, o.name));
  if (s.backend == "xen") return xen::export_disks(o, out_fd);
  qmp::Client qmp = qmp::Client::connect(s.qmp);
  std::string sock = vm::nbd_socket(run, o.name);
  with_context("starting the NBD server on " + sock, [&] {
    json::Document args(rapidjson::kObjectType);
    auto& a = args.GetAllocator();
    json::Value addr(rapidjson::kObjectType), data(rapidjson::kObjectType);
    json::add(data, "path", sock, a);
    json::add(addr, "type", "unix", a);
    json::add(addr, "data", std::move(data), a);
    json::add(args, "addr", std::move(addr), a);
    qmp.execute("nbd-server-start", &args);
  });
  proto::Message m = proto::make_message("exports");
  auto& ma = m.doc.GetAllocator();
  json::add(m.doc, "socket", sock, ma);
  json::Value exports(rapidjson::kArrayType);
  int index = 0;
  for (const auto& d : s.disks) {
    if (d.shared) continue;
    std::string node = qemu::node_for_key(qmp, d.key);
    std::string name = "lsm-" + std::to_string(index++);
    with_context("disk " + d.key + ": exporting " + d.file, [&] {
      json::Document args(rapidjson::kObjectType);
      auto& a = args.GetAllocator();
      json::add(args, "type", "nbd", a);
      json::add(args, "id", name, a);
      json::add(args, "node-name", node, a);
      json::add(args, "name", name, a);
      json::add(args, "writable", true, a);
      qmp.execute("block-export-add", &args);
    });
    json::Value e(rapidjson::kObjectType);
    json::add(e, "key", d.key, ma);
    json::add(e, "export", name, ma);
    json::add(e, "socket", sock, ma);
    exports.PushBack(e, ma);
  }
  json::add(m.doc, "exports", std::move(exports), ma);
  proto::write_message(out_fd, m, "stdout");
}

std::vector<mirror::MirrorTarget> mirror_targets(
    const MirrorOptions& o, const proto::Message& exports,
    const std::function<std::string(const std::string& key)>& node_of) {
  std::string default_socket = json::string_at(exports.doc, "socket", "exports");
  std::vector<mirror::MirrorTarget> targets;
  for (const auto& e : json::array_at(exports.doc, "exports", "exports").GetArray()) {
    mirror::MirrorTarget t;
    t.key = json::string_at(e, "key", "exports[]");
    t.export_name = json::string_at(e, "export", "exports[]");
    const json::Value* sock = json::find(e, "socket");
    std::string remote = sock && sock->IsString() ? sock->GetString() : default_socket;
    if (!o.socket.empty())
      t.socket = o.socket;
    else if (!o.socket_dir.empty())
      t.socket = o.socket_dir + remote.substr(remote.rfind('/'));
    else
      t.socket = remote;
    t.node = node_of(t.key);
    targets.push_back(t);
  }
  return targets;
}

void run_mirrors(const QmpUse& with_qmp, const std::vector<mirror::MirrorTarget>& targets,
                 const MirrorOptions& o) {
  std::uint64_t n = targets.size();
  try {
    with_qmp([&](qmp::Client& qmp) {
      int index = 0;
      for (const auto& t : targets)
        mirror::start(qmp, t, index++, n ? o.bandwidth / n : 0, o.write_blocking);
    });
    Progress progress("disks", o.json);
    auto progress_start = std::chrono::steady_clock::now();
    bool warned = false;
    std::vector<std::uint64_t> speeds(n, n ? o.bandwidth / n : 0);
    for (bool all_ready = false; !all_ready;) {
      with_qmp([&](qmp::Client& qmp) {
        mirror::check_events(qmp);
        auto jobs = mirror::list(qmp);
        if (jobs.size() != n)
          throw Error("expected " + std::to_string(n) + " mirror jobs, QEMU has " +
                      std::to_string(jobs.size()));
        std::uint64_t done = 0, total = 0;
        all_ready = true;
        for (const auto& j : jobs) {
          done += j.offset;
          total += j.len;
          all_ready = all_ready && j.ready;
        }
        share_bandwidth(qmp, jobs, o.bandwidth, speeds);
        if (all_ready) {
          progress.finish(done, total, "all disks ready");
        } else {
          progress.update(done, total);
          warn_if_not_converging(progress_start, done, total, warned);
        }
      });
      if (!all_ready) std::this_thread::sleep_for(200ms);
    }
  } catch (...) {
    try {
      with_qmp([](qmp::Client& qmp) { mirror::abort_all(qmp); });
    } catch (const std::exception& e) {
      log::error("cleaning up mirrors after failure: " + lsm::describe(e));
    }
    throw;
  }
}

void mirror_disks(const MirrorOptions& o, int in_fd) {
  vm::validate_name(o.name);
  FdReader in(in_fd, "stdin");
  proto::MessageReader reader(in);
  proto::Message m = reader.read("exports");
  if (o.backend == "xen") return xen::mirror_disks(o, m);
  std::string run = vm::run_dir(o.run_dir);
  qmp::Client qmp = qmp::Client::connect(vm::qmp_socket(run, o.name));
  auto targets = mirror_targets(o, m, [&](const std::string& key) {
    return qemu::node_for_key(qmp, key);
  });
  vm::SourceState state;
  state.was_running = json::bool_at(qmp.execute("query-status"), "running", "query-status");
  state.mirrors = static_cast<int>(targets.size());
  vm::save_source_state(run, o.name, state);
  run_mirrors([&](const auto& fn) { fn(qmp); }, targets, o);
}

}  // namespace lsm::phases

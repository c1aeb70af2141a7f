// The QEMU backend on the destination host: a QEMU started from the
// source's command line, waiting for the incoming migration, exports its
// own disks over NBD until the commit.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <optional>
#include <thread>

#include "core/log.hpp"
#include "core/own_process.hpp"
#include "core/subprocess.hpp"
#include "core/unix_socket.hpp"
#include "core/util.hpp"
#include "proto/frame.hpp"
#include "proto/progress.hpp"
#include "qemu/backend.hpp"
#include "qemu/cmdline.hpp"
#include "qemu/inventory.hpp"
#include "qemu/launch.hpp"
#include "qemu/migration.hpp"
#include "vm/names.hpp"

namespace lsm::qemu {

using namespace std::chrono_literals;
using backend::VmRef;

namespace {

std::vector<std::string> argv_here(const VmRef& vm, const proto::Vm& m, const vm::PathMap& map,
                                   const policy::Policy& policy) {
  std::vector<std::string> argv;
  for (const auto& s : json::array_at(m.config, "argv", "vm.config").GetArray()) {
    if (!s.IsString()) throw proto::ProtocolError("vm.config.argv: not all strings");
    argv.emplace_back(s.GetString());
  }
  if (argv.empty()) throw proto::ProtocolError("vm.config.argv is empty");
  Here here{policy, vm.run_dir, vm::qmp_socket(vm.run_dir, vm.name)};
  return destination_argv(argv, json::string_at(m.config, "qmp", "vm.config"), map, here);
}

std::string log_of(const VmRef& vm) { return vm::qemu_log(vm.run_dir, vm.name); }

bool alive(pid_t pid) {
  // Reap it first if it is our own child (prepare's failure path).
  ::waitpid(pid, nullptr, WNOHANG);
  return process_alive(pid);
}

void stop_qemu(const vm::DestState& s) {
  if (s.qemu_pid <= 0 || !alive(s.qemu_pid)) return;
  // Only this migration's QEMU, whose command line names its QMP socket,
  // may be stopped: the pid may have been reused by now. Signal 0 only
  // checks, and says why a process that is not ours is left alone.
  std::string what = "the destination QEMU of " + s.name;
  if (!signal_own(s.qemu_pid, s.qmp, 0, what)) return;
  try {
    qmp::Client qmp = qmp::Client::connect(s.qmp, 5s);
    auto status = qmp.execute("query-status");
    if (json::bool_at(status, "running", "query-status"))
      throw IndeterminateError("the destination guest '" + s.name +
                               "' is already running: it is the live copy now, "
                               "not rolling it back");
    qmp.execute("quit");
  } catch (const qmp::QmpError& e) {
    log::info("destination QEMU did not take quit (" + std::string(e.what()) +
              "); terminating it");
    signal_own(s.qemu_pid, s.qmp, SIGTERM, what);
  } catch (const SystemError& e) {
    signal_own(s.qemu_pid, s.qmp, SIGTERM, what);
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (alive(s.qemu_pid)) {
    if (std::chrono::steady_clock::now() > deadline) {
      signal_own(s.qemu_pid, s.qmp, SIGKILL, what);
      deadline += 10s;
    }
    std::this_thread::sleep_for(50ms);
  }
}

void start_nbd_server(qmp::Client& qmp, const std::string& sock) {
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
}

void add_export(qmp::Client& qmp, const proto::Disk& d, const std::string& name) {
  std::string node = node_for_key(qmp, d.key);
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
}

std::string plan(const VmRef& vm, const proto::Vm& m, const vm::PathMap& map,
                 const policy::Policy& policy) {
  // The command line names each image by its source path, mapped; a disk
  // sent elsewhere would leave QEMU opening a file lsm never wrote.
  for (const auto& d : m.disks)
    if (!d.target.empty())
      throw Error("disk " + d.key + ": a target path (" + d.target +
                  ") is for a Xen domain's -C configuration; a QEMU VM's disks land where "
                  "--map puts them");
  // Checked first: a refused command line leaves even an old socket alone.
  std::vector<std::string> argv = argv_here(vm, m, map, policy);
  std::string qmp_path = vm::qmp_socket(vm.run_dir, vm.name);
  // Only a socket nothing listens on is stale (launch() replaces it): a
  // QEMU whose monitor is busy does not answer, yet it runs.
  if (probe_socket(qmp_path) == SocketState::kInUse)
    throw Error("domain '" + vm.name + "' already runs on the destination (a QEMU listens on " +
                qmp_path + "); stop it, or roll back the earlier migration");
  std::string text = "destination QEMU:";
  for (const auto& s : argv) text += " " + s;
  return text;
}

void start(const VmRef& vm, const proto::Vm& m, const vm::PathMap& map,
           const policy::Policy& policy, vm::DestState& state) {
  vm::qemu_dir(vm.run_dir);
  state.qmp = vm::qmp_socket(vm.run_dir, vm.name);
  state.qemu_pid = launch(argv_here(vm, m, map, policy), state.qmp, log_of(vm));
  save(state);
  qmp::Client qmp = qmp::Client::connect(state.qmp);
  enable_capabilities(qmp, {"late-block-activate", "events"});
  log::info("destination QEMU pid " + std::to_string(state.qemu_pid));
}

proto::Exports export_disks(const VmRef& vm, vm::DestState& state) {
  qmp::Client qmp = qmp::Client::connect(state.qmp);
  proto::Exports out;
  out.socket = vm::nbd_socket(vm.run_dir, vm.name);
  start_nbd_server(qmp, out.socket);
  for (const auto& d : state.disks) {
    if (d.shared) continue;
    std::string name = "lsm-" + std::to_string(out.exports.size());
    add_export(qmp, d, name);
    out.exports.push_back({d.key, name, out.socket});
  }
  return out;
}

// Until QEMU has the whole VM: the stream is in, or it says why not.
void wait_incoming(const VmRef& vm, qmp::Client& qmp) {
  for (;;) {
    auto e = qmp.wait_event("MIGRATION", 120s);
    std::string st = migration_status(e);
    if (st == "completed") return;
    if (st == "failed" || st == "cancelled")
      throw Error("incoming migration " + st + ": " + migration_error(qmp) +
                  " (QEMU log: " + read_tail(log_of(vm), 300) + ")");
  }
}

void receive_ram(const VmRef& vm, vm::DestState& state, FdReader& in, bool json) {
  qmp::Client qmp = qmp::Client::connect(state.qmp);
  auto [ours, theirs] = stream_pair();
  migrate_over_fd(qmp, "migrate-incoming", std::move(theirs));
  proto::Progress progress("ram received", json);
  proto::FrameReader frames(in, "RAM stream");
  try {
    while (frames.next_to(ours.get(), "the destination QEMU")) progress.update(frames.total(), 0);
  } catch (const std::exception& e) {
    ::shutdown(ours.get(), SHUT_RDWR);
    throw Error(lsm::describe(e) + " (destination QEMU log: " + read_tail(log_of(vm), 300) + ")");
  }
  ::shutdown(ours.get(), SHUT_WR);
  wait_incoming(vm, qmp);
  progress.finish(frames.total(), 0, "complete");
}

// Why the incoming migration ended early, if it did: QEMU failed it, or
// QEMU is gone (7.2 exits when an incoming migration fails).
std::optional<std::string> incoming_ended(qmp::Client& qmp) {
  try {
    if (migration_status(qmp) != "failed") return std::nullopt;
    return "incoming migration failed: " + migration_error(qmp);
  } catch (const Error& gone) {
    return "the destination QEMU is gone (" + lsm::describe(gone) + ")";
  }
}

// QEMU reads the connection itself: the destination's bytes do not pass
// through lsm either. Nothing of ours holds it open, so QEMU's failure
// reaches the source as the connection's end.
void receive_ram_socket(const VmRef& vm, vm::DestState& state, UniqueFd stream,
                        const std::function<void()>& follow_source) {
  qmp::Client qmp = qmp::Client::connect(state.qmp);
  migrate_over_fd(qmp, "migrate-incoming", std::move(stream));
  try {
    follow_source();
  } catch (const std::exception& e) {
    // A stream QEMU refused ends the source's too: QEMU's reason is the
    // one, and a QEMU that exits on it leaves its log.
    auto why = incoming_ended(qmp);
    if (!why) throw;
    throw Error(lsm::describe(e) + "; " + *why + " (QEMU log: " + read_tail(log_of(vm), 300) +
                ")");
  }
  wait_incoming(vm, qmp);
}

void check_resumable(const VmRef& vm, const vm::DestState& state) {
  qmp::Client qmp = qmp::Client::connect(state.qmp);
  std::string st = migration_status(qmp);
  if (st != "completed")
    throw Error("incoming migration of '" + vm.name + "' is not complete (status " + st +
                "); not resuming");
}

double resume(const VmRef& vm, const vm::DestState& state, bool leave_paused) {
  qmp::Client qmp = qmp::Client::connect(state.qmp);
  try {
    qmp.execute("nbd-server-stop");
  } catch (const qmp::ExecuteError& e) {
    // Nothing was exported when every disk was shared.
    log::info("nbd-server-stop: " + std::string(e.what()));
  }
  remove_file(vm::nbd_socket(vm.run_dir, vm.name));
  bool run = state.was_running && !leave_paused;
  double resumed_at = 0;
  if (run) {
    qmp.execute("cont");
    resumed_at = qmp.wait_event("RESUME", 30s).timestamp();
  }
  auto status = qmp.execute("query-status");
  if (run && !json::bool_at(status, "running", "query-status"))
    throw Error("guest '" + vm.name + "' did not keep running after cont (status " +
                json::string_at(status, "status", "query-status") + ")");
  return resumed_at;
}

void rollback(const VmRef& vm, const vm::DestState& state) {
  stop_qemu(state);
  remove_stale_socket(vm::nbd_socket(vm.run_dir, vm.name), "NBD socket");
  if (!state.qmp.empty()) remove_stale_socket(state.qmp, "QMP socket");
}

}  // namespace

backend::DestinationOps destination_ops() {
  return {.plan = plan, .start = start, .export_disks = export_disks, .receive_ram = receive_ram,
          .receive_ram_socket = receive_ram_socket, .check_resumable = check_resumable,
          .resume = resume, .rollback = rollback};
}

}  // namespace lsm::qemu

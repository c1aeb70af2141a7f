#include "phases/rollback.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "core/log.hpp"
#include "core/subprocess.hpp"
#include "mirror/jobs.hpp"
#include "phases/xen.hpp"
#include "qemu/cmdline.hpp"
#include "qmp/client.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

using namespace std::chrono_literals;

namespace {

bool migration_active(qmp::Client& qmp) {
  auto info = qmp.execute("query-migrate");
  const json::Value* s = json::find(info, "status");
  if (!s || !s->IsString()) return false;
  std::string st = s->GetString();
  return st != "completed" && st != "failed" && st != "cancelled" && st != "none";
}

bool alive(pid_t pid) {
  // Reap it first if it is our own child (prepare's failure path).
  ::waitpid(pid, nullptr, WNOHANG);
  return process_alive(pid);
}

// Only a process that is this migration's QEMU may be stopped: a pid from
// the state file may have been reused by now.
bool is_our_qemu(pid_t pid, const std::string& qmp) {
  try {
    for (const auto& a : qemu::read_cmdline(pid))
      if (a.find(qmp) != std::string::npos) return true;
  } catch (const Error&) {
    // Gone, or not ours to read.
  }
  return false;
}

void stop_qemu(const vm::DestState& s) {
  if (s.qemu_pid <= 0 || !alive(s.qemu_pid) || !is_our_qemu(s.qemu_pid, s.qmp)) return;
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
    ::kill(s.qemu_pid, SIGTERM);
  } catch (const SystemError& e) {
    ::kill(s.qemu_pid, SIGTERM);
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (alive(s.qemu_pid)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(s.qemu_pid, SIGKILL);
      deadline += 10s;
    }
    std::this_thread::sleep_for(50ms);
  }
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) < 0 && errno != ENOENT)
    throw SystemError("removing " + path, errno);
}

}  // namespace

void rollback_source(const std::string& run, const std::string& name,
                     const std::string& backend) {
  vm::validate_name(name);
  if (backend == "xen") return xen::rollback_source(run, name);
  qmp::Client qmp = qmp::Client::connect(vm::qmp_socket(run, name));
  if (migration_active(qmp)) {
    qmp.execute("migrate_cancel");
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (migration_active(qmp)) {
      if (std::chrono::steady_clock::now() > deadline)
        throw Error("migration did not stop within 30 s of migrate_cancel");
      std::this_thread::sleep_for(50ms);
    }
  }
  mirror::abort_all(qmp);
  auto status = qmp.execute("query-status");
  auto recorded = vm::load_source_state(run, name);
  // Without a record phase 2 never started, so lsm did not pause the guest.
  if (!json::bool_at(status, "running", "query-status") && recorded && recorded->was_running) {
    qmp.execute("cont");
    log::notice("guest " + name + " resumed on the source");
  }
  vm::clear_source_state(run, name);
}

void rollback_destination(const std::string& run, const std::string& name) {
  vm::validate_name(name);
  std::string path = vm::state_file(run, name);
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) {
    log::info("nothing to roll back for " + name + " on this host");
    return;
  }
  vm::DestState s = vm::load_dest_state(path);
  if (s.backend == "xen") return xen::rollback_destination(run, name);
  stop_qemu(s);
  for (const auto& f : s.created) remove_file(f);
  remove_file(vm::nbd_socket(run, name));
  remove_file(s.qmp);
  remove_file(path);
  log::info("destination cleaned: " + std::to_string(s.created.size()) + " image(s) removed");
}

}  // namespace lsm::phases

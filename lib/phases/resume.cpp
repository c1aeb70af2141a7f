#include "phases/resume.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "core/log.hpp"
#include "core/subprocess.hpp"
#include "phases/xen.hpp"
#include "proto/message.hpp"
#include "qmp/client.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

using namespace std::chrono_literals;

namespace {

std::string migrate_status(qmp::Client& qmp) {
  auto info = qmp.execute("query-migrate");
  const json::Value* s = json::find(info, "status");
  return s && s->IsString() ? s->GetString() : "none";
}

}  // namespace

void resume_destination(const std::string& run_dir, const std::string& name, int out_fd) {
  vm::validate_name(name);
  std::string run = vm::run_dir(run_dir);
  std::string state_path = vm::state_file(run, name);
  vm::DestState s = vm::load_dest_state(state_path);
  if (s.backend == "xen") return xen::resume_destination(run, name, out_fd);
  qmp::Client qmp = qmp::Client::connect(s.qmp);
  std::string st = migrate_status(qmp);
  if (st != "completed")
    throw Error("incoming migration of '" + name + "' is not complete (status " + st +
                "); not resuming");
  try {
    qmp.execute("nbd-server-stop");
  } catch (const qmp::ExecuteError& e) {
    // Nothing was exported when every disk was shared.
    log::info("nbd-server-stop: " + std::string(e.what()));
  }
  std::string nbd = vm::nbd_socket(run, name);
  if (::unlink(nbd.c_str()) < 0 && errno != ENOENT) throw SystemError("removing " + nbd, errno);
  double resumed_at = 0;
  if (s.was_running) {
    qmp.execute("cont");
    resumed_at = qmp.wait_event("RESUME", 30s).timestamp();
  }
  auto status = qmp.execute("query-status");
  bool running = json::bool_at(status, "running", "query-status");
  if (s.was_running && !running)
    throw Error("guest '" + name + "' did not keep running after cont (status " +
                json::string_at(status, "status", "query-status") + ")");
  // Committed: the images belong to the running guest now, and no rollback
  // may delete them.
  if (::unlink(state_path.c_str()) < 0) throw SystemError("removing " + state_path, errno);
  write_resumed(out_fd, resumed_at);
  log::info("guest " + name + " runs on this host");
}

void write_resumed(int out_fd, double resumed_at) {
  proto::Message r = proto::make_message("result");
  auto& a = r.doc.GetAllocator();
  json::add(r.doc, "phase", "resume", a);
  json::add(r.doc, "ok", true, a);
  json::add(r.doc, "resumed_at", proto::timestamp(resumed_at), a);
  proto::write_message(out_fd, r, "stdout");
}

void quit_source(const std::string& run_dir, const std::string& name, const std::string& backend) {
  vm::validate_name(name);
  std::string run = vm::run_dir(run_dir);
  if (backend == "xen") return xen::quit_source(run, name);
  qmp::Client qmp = qmp::Client::connect(vm::qmp_socket(run, name));
  std::string st = migrate_status(qmp);
  if (st != "completed")
    throw Error("source migration of '" + name + "' is not complete (status " + st +
                "); refusing to quit the source QEMU");
  if (json::bool_at(qmp.execute("query-status"), "running", "query-status"))
    throw Error("source guest '" + name + "' is running; refusing to quit it");
  pid_t pid = qmp.peer_pid();
  qmp.execute("quit");
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("source QEMU (pid " + std::to_string(pid) + ") did not exit within 30 s of quit");
    std::this_thread::sleep_for(50ms);
  }
  vm::clear_source_state(run, name);
}

}  // namespace lsm::phases

// Phase 4 for Xen and the rollbacks: the destination renames its paused
// NAME--incoming to NAME and unpauses it (the commit point); only then is
// the suspended NAME--migratedaway destroyed on the source. Before the
// commit, the source is resumed and the destination destroyed instead.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "core/log.hpp"
#include "mirror/jobs.hpp"
#include "phases/dest_images.hpp"
#include "phases/resume.hpp"
#include "phases/xen.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"
#include "xen/dm_qmp.hpp"
#include "xen/domain.hpp"
#include "xen/nbd_server.hpp"

namespace lsm::phases::xen {

namespace lx = lsm::xen;
using namespace std::chrono_literals;

namespace {

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw SystemError("removing " + path, errno);
}

}  // namespace

void resume_destination(const std::string& run, const std::string& name, int out_fd) {
  std::string state_path = vm::state_file(run, name);
  lx::Libxl x;
  auto domid = lx::lookup_domain(x, incoming_name(name));
  if (!domid)
    throw Error("no domain " + incoming_name(name) + " here: phase 3 did not complete");
  auto info = lx::domain_info(x, *domid);
  if (!info || info->dying || info->suspended)
    throw Error("domain " + incoming_name(name) + " is not in a state to run");
  // Unpaused first: a rollback tells from the pause flag of NAME--incoming
  // whether the guest may have run here.
  lx::unpause_domain(x, *domid);
  double resumed_at = epoch_now();
  lx::rename_domain(x, *domid, incoming_name(name), name);
  info = lx::domain_info(x, *domid);
  if (!info || info->paused || info->dying)
    throw Error("domain " + name + " did not keep running after unpause");
  // Committed: the images belong to the running guest now, and no rollback
  // may delete them.
  remove_file(state_path);
  write_resumed(out_fd, resumed_at);
  log::info("domain " + name + " runs on this host as domain " + std::to_string(*domid));
}

void quit_source(const std::string& run, const std::string& name) {
  lx::Libxl x;
  auto domid = lx::lookup_domain(x, migratedaway_name(name));
  if (!domid)
    throw Error("no domain " + migratedaway_name(name) +
                " here: the source's part of phase 3 did not complete; refusing to destroy " +
                name);
  auto info = lx::domain_info(x, *domid);
  if (info && !info->suspended)
    throw Error("domain " + migratedaway_name(name) + " is not suspended; refusing to destroy it");
  lx::destroy_domain(x, *domid);
  vm::clear_source_state(run, name);
}

void rollback_source(const std::string& run, const std::string& name) {
  lx::Libxl x;
  auto domid = lx::lookup_domain(x, migratedaway_name(name));
  if (domid) {
    lx::rename_domain(x, *domid, migratedaway_name(name), name);
  } else {
    domid = lx::lookup_domain(x, name);
  }
  if (!domid) throw Error("domain '" + name + "' no longer exists on this host");
  auto info = lx::domain_info(x, *domid);
  if (!info) throw Error("domain '" + name + "' went away during the rollback");
  if (path_exists(lx::qmp_socket_path(*domid))) {
    lx::DeviceModelQmp dm(*domid, info->uuid);
    mirror::abort_all(dm.client());
  }
  if (info->suspended) {
    lx::resume_domain(x, *domid);
    log::notice("domain " + name + " resumed on the source");
  }
  vm::clear_source_state(run, name);
}

void rollback_destination(const std::string& run, const std::string& name) {
  std::string path = vm::state_file(run, name);
  vm::DestState s = vm::load_dest_state(path);
  lx::Libxl x;
  if (auto running = lx::lookup_domain(x, name))
    throw IndeterminateError("domain '" + name + "' (" + std::to_string(*running) +
                             ") exists on the destination: it may be the live copy now, "
                             "not rolling it back");
  if (auto incoming = lx::lookup_domain(x, incoming_name(name))) {
    auto info = lx::domain_info(x, *incoming);
    if (info && !info->paused)
      throw IndeterminateError("domain '" + incoming_name(name) +
                               "' was unpaused on the destination: it may be the live copy "
                               "now, not rolling it back");
    lx::destroy_domain(x, *incoming);
  }
  for (pid_t pid : s.nbd_pids) {
    try {
      lx::stop_nbd_server(pid, "rollback of " + name);
    } catch (const Error& e) {
      log::error(std::string(e.what()) + "; killing it");
      ::kill(pid, SIGKILL);
    }
  }
  for (std::size_t i = 0; i < s.disks.size(); ++i)
    remove_file(vm::nbd_socket(run, name) + "-" + std::to_string(i));
  for (const auto& f : s.created) remove_file(f);
  remove_file(path);
  log::info("destination cleaned: " + std::to_string(s.created.size()) + " image(s) removed");
}

}  // namespace lsm::phases::xen

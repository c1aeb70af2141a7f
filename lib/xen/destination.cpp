// The Xen backend on the destination host: qemu-nbd serves the new images
// until libxl has the whole stream; libxl builds the domain paused as
// NAME--incoming, and the commit unpauses it and gives it its name.
#include <signal.h>

#include <set>

#include "core/log.hpp"
#include "core/own_process.hpp"
#include "core/util.hpp"
#include "proto/frame.hpp"
#include "vm/names.hpp"
#include "xen/backend.hpp"
#include "xen/config_check.hpp"
#include "xen/domain.hpp"
#include "xen/nbd_server.hpp"
#include "xen/restore.hpp"

namespace lsm::xen {

using backend::VmRef;

namespace {

std::string nbd_socket(const VmRef& vm, std::size_t index) {
  return vm::nbd_socket(vm.run_dir, vm.name) + "-" + std::to_string(index);
}

std::string plan(const VmRef& vm, const proto::Vm& m, const vm::PathMap&,
                 const policy::Policy& policy) {
  if (!is_xen_dom0())
    throw Error("domain '" + vm.name + "' is a Xen domain but this host is not a Xen dom0");
  std::set<std::string> copied;
  for (const auto& d : m.disks) copied.insert(d.key);
  check_config(json::string_at(m.config, "libxl", "vm.config"), copied, policy, vm.run_dir);
  Libxl x;
  for (const auto& n : {vm.name, incoming_name(vm.name)})
    if (lookup_domain(x, n)) throw Error("domain '" + n + "' already exists on the destination (xl list)");
  return "restored by libxl as " + incoming_name(vm.name) + " (" +
         json::string_at(m.config, "type", "vm.config") + "), renamed " + vm.name +
         " when it runs";
}

void start(const VmRef&, const proto::Vm& m, const vm::PathMap&, const policy::Policy&,
           vm::DestState& state) {
  // libxl builds the domain only from the stream, in phase 3.
  state.xen_config = json::string_at(m.config, "libxl", "vm.config");
  save(state);
}

proto::Exports export_disks(const VmRef& vm, vm::DestState& state) {
  if (!state.nbd_pids.empty())
    throw Error("the disks of '" + vm.name + "' are already exported; roll back first");
  proto::Exports out;
  std::string log = vm::qemu_nbd_log(vm.run_dir, vm.name);
  for (const auto& d : state.disks) {
    if (d.shared) continue;
    std::size_t index = out.exports.size();
    std::string name = "lsm-" + std::to_string(index);
    std::string sock = nbd_socket(vm, index);
    auto server = with_context("disk " + d.key + ": serving " + d.file, [&] {
      return start_nbd_server(d.file, d.format, sock, name, log);
    });
    state.nbd_pids.push_back(server.pid);
    save(state);
    out.exports.push_back({d.key, name, sock});
  }
  if (!out.exports.empty()) out.socket = out.exports.front().socket;
  return out;
}

void receive_ram(const VmRef& vm, vm::DestState& state, FdReader& in, bool) {
  Libxl x;
  RestoreOptions ro;
  ro.config_json = state.xen_config;
  ro.name = incoming_name(vm.name);
  for (const auto& d : state.disks) ro.disk_paths[d.key] = d.file;
  ro.before_end = [&] {
    for (std::size_t i = 0; i < state.nbd_pids.size(); ++i)
      stop_nbd_server(state.nbd_pids[i], nbd_socket(vm, i), "domain " + vm.name);
    state.nbd_pids.clear();
    save(state);
  };
  proto::FrameReader frames(in, "RAM stream");
  proto::FrameStream stream(frames);
  auto r = restore_domain(x, ro, stream);
  stream.finish(Deadline::never());
  log::info("domain " + ro.name + " restored as domain " + std::to_string(r.domid));
}

// The paused domain libxl restored from the stream.
std::uint32_t incoming_domain(Libxl& x, const VmRef& vm) {
  std::string incoming = incoming_name(vm.name);
  auto domid = lookup_domain(x, incoming);
  if (!domid) throw Error("no domain " + incoming + " here: phase 3 did not complete");
  auto state = run_state(x, *domid);
  if (!state || state->dying || state->suspended)
    throw Error("domain " + incoming + " is not in a state to run");
  return *domid;
}

void check_resumable(const VmRef& vm, const vm::DestState&) {
  Libxl x;
  incoming_domain(x, vm);
}

double resume(const VmRef& vm, const vm::DestState&, bool leave_paused) {
  Libxl x;
  std::uint32_t domid = incoming_domain(x, vm);
  double resumed_at = 0;
  // Unpaused first: a rollback tells from the pause flag of NAME--incoming
  // whether the guest may have run here.
  if (!leave_paused) {
    unpause_domain(x, domid);
    resumed_at = epoch_now();
  }
  rename_domain(x, domid, incoming_name(vm.name), vm.name);
  auto state = run_state(x, domid);
  if (!state || state->dying || state->paused != leave_paused)
    throw Error("domain " + vm.name + (leave_paused ? " is not paused as asked (-p)"
                                                    : " did not keep running after unpause"));
  log::info("domain " + vm.name + (leave_paused ? " is paused" : " runs") + " on this host as domain " +
            std::to_string(domid));
  return resumed_at;
}

void rollback(const VmRef& vm, const vm::DestState& state) {
  Libxl x;
  if (auto running = lookup_domain(x, vm.name))
    throw IndeterminateError("domain '" + vm.name + "' (" + std::to_string(*running) +
                             ") exists on the destination: it may be the live copy now, "
                             "not rolling it back");
  std::string incoming = incoming_name(vm.name);
  if (auto domid = lookup_domain(x, incoming)) {
    auto incoming_state = run_state(x, *domid);
    if (incoming_state && !incoming_state->paused)
      throw IndeterminateError("domain '" + incoming +
                               "' was unpaused on the destination: it may be the live copy "
                               "now, not rolling it back");
    destroy_domain(x, *domid);
  }
  // The N-th pid serves the N-th socket (export_disks).
  for (std::size_t i = 0; i < state.nbd_pids.size(); ++i) {
    std::string sock = nbd_socket(vm, i);
    try {
      stop_nbd_server(state.nbd_pids[i], sock, "rollback of " + vm.name);
    } catch (const Error& e) {
      log::error(std::string(e.what()) + "; killing it");
      signal_own(state.nbd_pids[i], sock, SIGKILL, "the qemu-nbd of " + sock);
    }
  }
  for (std::size_t i = 0; i < state.disks.size(); ++i) remove_file(nbd_socket(vm, i));
}

}  // namespace

backend::DestinationOps destination_ops() {
  // The stream is libxl's, relayed and checked here: frames only.
  return {.plan = plan, .start = start, .export_disks = export_disks, .receive_ram = receive_ram,
          .receive_ram_socket = {}, .check_resumable = check_resumable, .resume = resume,
          .rollback = rollback};
}

}  // namespace lsm::xen

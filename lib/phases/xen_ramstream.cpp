// Phase 3 for Xen: the source writes the libxl v2 stream itself (see
// xen/save.hpp) between the same "ram-stream" and "ram-done" messages as
// the QEMU backend; the destination relays it into libxl, holding back its
// END record until the qemu-nbd servers have exited, since libxl opens the
// images for the new device model only after END.
#include <cstdio>

#include "core/log.hpp"
#include "mirror/jobs.hpp"
#include "phases/xen.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"
#include "xen/dm_qmp.hpp"
#include "xen/domain.hpp"
#include "xen/nbd_server.hpp"
#include "xen/restore.hpp"
#include "xen/save.hpp"

namespace lsm::phases::xen {

namespace lx = lsm::xen;

void send_ram(const RamSendOptions& o, int out_fd) {
  std::string run = vm::run_dir(o.run_dir);
  lx::Libxl x;
  std::uint32_t domid = lx::find_domain(x, o.name);
  auto info = lx::domain_info(x, domid);
  if (!info) throw UsageError("unknown domain '" + o.name + "': it just went away");
  auto state = vm::load_source_state(run, o.name);
  if (!state)
    throw Error("no disk mirrors were set up for '" + o.name +
                "'; run phase 2 (lsm-mirror send) first");
  if (state->mirrors > 0) {
    lx::DeviceModelQmp dm(domid, info->uuid);
    mirror::require_all_ready(dm.client(), state->mirrors);
    // One limit for the whole migration, as with QEMU: half for the RAM
    // stream, half for the mirrors following guest writes.
    if (o.bandwidth)
      for (const auto& j : mirror::list(dm.client()))
        mirror::set_speed(dm.client(), j.id, o.bandwidth / 2 / state->mirrors);
  }
  proto::Message header = proto::make_message("ram-stream");
  json::add(header.doc, "name", o.name, header.doc.GetAllocator());
  json::add(header.doc, "backend", "xen", header.doc.GetAllocator());
  proto::write_message(out_fd, header, "stdout (the stream to the destination)");

  lx::SaveOptions so;
  so.downtime_ms = o.downtime_ms;
  so.bandwidth = o.bandwidth / 2;
  if (state->mirrors > 0)
    so.finish_disks = [](qmp::Client& qmp) {
      return with_context("finishing disk mirrors with the guest suspended",
                          [&] { return mirror::finish_all(qmp); });
    };
  auto r = lx::save_domain(x, *info, out_fd, so);
  // As xl does: the source copy gives up its name before the destination
  // takes it.
  lx::rename_domain(x, domid, o.name, migratedaway_name(o.name));
  proto::Message done = proto::make_message("ram-done");
  auto& a = done.doc.GetAllocator();
  json::add(done.doc, "bytes", r.ram_bytes, a);
  json::add(done.doc, "disk_bytes", r.disk_bytes, a);
  json::add(done.doc, "paused_at", proto::timestamp(r.suspended_at), a);
  proto::write_message(out_fd, done, "stdout (the stream to the destination)");
  log::info("domain " + o.name + " sent: " + std::to_string(r.ram_bytes) + " bytes of RAM stream");
}

void receive_ram(const RamReceiveOptions& o, FdReader& in, int out_fd) {
  std::string run = vm::run_dir(o.run_dir);
  std::string state_path = vm::state_file(run, o.name);
  vm::DestState s = vm::load_dest_state(state_path);
  lx::Libxl x;
  lx::RestoreOptions ro;
  ro.config_json = s.xen_config;
  ro.name = incoming_name(o.name);
  for (const auto& d : s.disks) ro.disk_paths[d.key] = d.file;
  ro.before_end = [&] {
    for (pid_t pid : s.nbd_pids) lx::stop_nbd_server(pid, "domain " + o.name);
    s.nbd_pids.clear();
    save(s, state_path);
  };
  auto r = lx::restore_domain(x, ro, in);
  proto::MessageReader reader(in);
  proto::Message done = reader.read("ram-done");
  proto::Message result = proto::make_message("result");
  auto& a = result.doc.GetAllocator();
  json::add(result.doc, "phase", "ram", a);
  json::add(result.doc, "ok", true, a);
  json::add(result.doc, "domid", static_cast<std::uint64_t>(r.domid), a);
  json::add(result.doc, "ram_bytes", json::u64_at(done.doc, "bytes", "ram-done"), a);
  json::add(result.doc, "disk_bytes", json::u64_at(done.doc, "disk_bytes", "ram-done"), a);
  json::add(result.doc, "paused_at", json::string_at(done.doc, "paused_at", "ram-done"), a);
  proto::write_message(out_fd, result, "stdout");
}

}  // namespace lsm::phases::xen

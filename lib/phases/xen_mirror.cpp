// Phase 2 for Xen: qemu-nbd serves each destination image (no device
// model runs there yet); the source's device model mirrors into them over
// libxl's QMP socket, one short locked connection per step.
#include <chrono>
#include <map>

#include "core/log.hpp"
#include "phases/xen.hpp"
#include "qemu/inventory.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"
#include "xen/disks.hpp"
#include "xen/dm_qmp.hpp"
#include "xen/domain.hpp"
#include "xen/nbd_server.hpp"

namespace lsm::phases::xen {

namespace lx = lsm::xen;

void export_disks(const ExportOptions& o, int out_fd) {
  std::string run = vm::run_dir(o.run_dir);
  std::string state_path = vm::state_file(run, o.name);
  vm::DestState s = vm::load_dest_state(state_path);
  if (!s.nbd_pids.empty())
    throw Error("the disks of '" + o.name + "' are already exported; roll back first");
  proto::Message m = proto::make_message("exports");
  auto& ma = m.doc.GetAllocator();
  json::Value exports(rapidjson::kArrayType);
  std::string first_socket;
  int index = 0;
  for (const auto& d : s.disks) {
    if (d.shared) continue;
    std::string name = "lsm-" + std::to_string(index);
    std::string sock = vm::nbd_socket(run, o.name) + "-" + std::to_string(index++);
    auto server = with_context("disk " + d.key + ": serving " + d.file, [&] {
      return lx::start_nbd_server(d.file, d.format, sock, name,
                                  vm::lsm_dir(run) + "/" + o.name + ".qemu-nbd.log");
    });
    s.nbd_pids.push_back(server.pid);
    save(s, state_path);
    if (first_socket.empty()) first_socket = sock;
    json::Value e(rapidjson::kObjectType);
    json::add(e, "key", d.key, ma);
    json::add(e, "export", name, ma);
    json::add(e, "socket", sock, ma);
    exports.PushBack(e, ma);
  }
  json::add(m.doc, "socket", first_socket, ma);
  json::add(m.doc, "exports", std::move(exports), ma);
  proto::write_message(out_fd, m, "stdout");
}

void mirror_disks(const MirrorOptions& o, const proto::Message& exports) {
  std::string run = vm::run_dir(o.run_dir);
  lx::Libxl x;
  std::uint32_t domid = lx::find_domain(x, o.name);
  auto info = lx::domain_info(x, domid);
  if (!info) throw UsageError("unknown domain '" + o.name + "': it just went away");
  std::map<std::string, std::string> files;
  for (const auto& d : lx::domain_disks(x, domid, lx::domain_config_json(x, domid), {}))
    files[d.key] = d.file;
  QmpUse with_qmp = [&](const std::function<void(qmp::Client&)>& fn) {
    lx::DeviceModelQmp dm(domid, info->uuid);
    fn(dm.client());
  };
  std::vector<mirror::MirrorTarget> targets;
  // Every disk shared: nothing to mirror (and maybe no device model).
  if (!json::array_at(exports.doc, "exports", "exports").Empty())
    with_qmp([&](qmp::Client& qmp) {
    targets = mirror_targets(o, exports, [&](const std::string& key) {
      auto f = files.find(key);
      if (f == files.end()) throw Error("disk " + key + ": domain '" + o.name + "' has no such disk");
      return qemu::node_for_file(qmp, f->second);
    });
    });
  vm::SourceState state;
  state.was_running = true;
  state.mirrors = static_cast<int>(targets.size());
  vm::save_source_state(run, o.name, state);
  run_mirrors(with_qmp, targets, o);
}

}  // namespace lsm::phases::xen

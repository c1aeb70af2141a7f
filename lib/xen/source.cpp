// The Xen backend on the source host: the domain found by name through
// libxl, its device model reached on libxl's QMP socket under libxl's lock.
#include <map>

#include "core/log.hpp"
#include "core/util.hpp"
#include "mirror/jobs.hpp"
#include "mirror/nodes.hpp"
#include "xen/backend.hpp"
#include "xen/config_override.hpp"
#include "xen/disks.hpp"
#include "xen/dm_qmp.hpp"
#include "xen/domain.hpp"
#include "xen/save.hpp"

namespace lsm::xen {

using backend::VmRef;

namespace {

DomainInfo find_live_domain(Libxl& x, const std::string& name) {
  std::uint32_t domid = find_domain(x, name);
  auto info = domain_info(x, domid);
  if (!info) throw UsageError("unknown domain '" + name + "': it just went away");
  return *info;
}

class XenDeviceModel : public backend::DeviceModel {
 public:
  explicit XenDeviceModel(const VmRef& vm) : info_(find_live_domain(x_, vm.name)) {
    for (const auto& d : domain_disks(x_, info_.domid, domain_config_json(x_, info_.domid), {}))
      files_[d.key] = d.file;
  }
  // One short connection per use: libxl waits for its lock without a timeout.
  void with_qmp(const std::function<void(qmp::Client&)>& fn) override {
    DeviceModelQmp dm(info_.domid, info_.uuid);
    fn(dm.client());
  }
  std::string node_of(qmp::Client& qmp, const std::string& key) override {
    auto f = files_.find(key);
    if (f == files_.end()) throw Error("disk " + key + ": domain '" + info_.name + "' has no such disk");
    return mirror::node_for_file(qmp, f->second);
  }
  bool guest_running() override { return !info_.paused && !info_.suspended; }
  // libxl's own socket, taken for one call at a time (xen/dm_qmp.hpp).
  bool connection_is_ours() const override { return false; }

 private:
  Libxl x_;
  DomainInfo info_;
  std::map<std::string, std::string> files_;
};

class XenRamSender : public backend::RamSender {
 public:
  XenRamSender(const VmRef& vm, const backend::RamLimits& limits)
      : name_(vm.name), info_(find_live_domain(x_, vm.name)) {
    options_.downtime_ms = limits.downtime_ms;
    options_.bandwidth = limits.bandwidth;
  }

  backend::RamSent send(int out_fd, UniqueFd socket, const backend::DiskHooks& disks) override {
    if (socket) throw Error("the xen backend streams RAM as frames only, not on a socket");
    // Xen's device model keeps no migration of its own going after this,
    // so the mirrors are released as soon as they are finished.
    if (disks.finish)
      options_.finish_disks = [disks](qmp::Client& qmp) {
        std::uint64_t bytes = disks.finish(qmp);
        if (disks.release) disks.release(qmp);
        return bytes;
      };
    options_.check_disks = disks.check;
    auto r = save_domain(x_, info_, out_fd, options_);
    // As xl does: the source copy gives up its name before the destination
    // takes it.
    rename_domain(x_, info_.domid, name_, migratedaway_name(name_));
    log::info("domain " + name_ + " sent: " + std::to_string(r.ram_bytes) +
              " bytes of RAM stream in " + std::to_string(r.wire_bytes) +
              " bytes of frames (runs of zeros elided)");
    return {r.ram_bytes, r.disk_bytes, r.suspended_at};
  }

 private:
  std::string name_;
  Libxl x_;
  DomainInfo info_;
  SaveOptions options_;
};

backend::Description describe(const VmRef& vm, const backend::DescribeRequest& request) {
  Libxl x;
  DomainInfo info = find_live_domain(x, vm.name);
  if (info.suspended || info.dying)
    throw Error("domain '" + vm.name + "' is not running (it is shut down or suspended)");
  if (info.paused)
    throw Error("domain '" + vm.name + "' is paused and could not acknowledge the suspend a "
                "live migration needs; unpause it first (xl unpause " + vm.name + ")");
  std::string config = domain_config_json(x, info.domid);
  backend::Description d;
  d.disks = domain_disks(x, info.domid, config, request.shared_disks);
  if (!request.config_file.empty()) {
    std::string origin = "-C " + request.config_file;
    config = xl_config_json(request.config_file);
    apply_config_override(config, origin, vm.name, type_name(info.type), d.disks);
    log::info("domain " + vm.name + ": the destination uses " + request.config_file);
  }
  auto& a = d.config.GetAllocator();
  json::add(d.config, "libxl", config, a);
  json::add(d.config, "type", type_name(info.type), a);
  json::add(d.config, "running", true, a);
  log::info("domain " + vm.name + " is a " + type_name(info.type) + " guest, domain " +
            std::to_string(info.domid));
  return d;
}

void rollback(const VmRef& vm, const std::optional<vm::SourceState>&) {
  Libxl x;
  std::string away = migratedaway_name(vm.name);
  auto domid = lookup_domain(x, away);
  if (domid)
    rename_domain(x, *domid, away, vm.name);
  else
    domid = lookup_domain(x, vm.name);
  if (!domid) throw Error("domain '" + vm.name + "' no longer exists on this host");
  auto info = domain_info(x, *domid);
  if (!info) throw Error("domain '" + vm.name + "' went away during the rollback");
  if (path_exists(qmp_socket_path(*domid))) {
    DeviceModelQmp dm(*domid, info->uuid);
    mirror::abort_all(dm.client());
  }
  // A suspend is lsm's own doing: Xen guests are refused paused or
  // suspended in phase 1, so what phase 2 recorded adds nothing here.
  if (!info->suspended) return;
  resume_domain(x, *domid);
  log::notice("domain " + vm.name + " resumed on the source");
}

void quit(const VmRef& vm) {
  Libxl x;
  std::string away = migratedaway_name(vm.name);
  auto domid = lookup_domain(x, away);
  if (!domid)
    throw Error("no domain " + away +
                " here: the source's part of phase 3 did not complete; refusing to destroy " +
                vm.name);
  auto state = run_state(x, *domid);
  if (state && !state->suspended)
    throw Error("domain " + away + " is not suspended; refusing to destroy it");
  destroy_domain(x, *domid);
}

}  // namespace

backend::SourceOps source_ops() {
  return {.describe = describe, .device_model = backend::construct<XenDeviceModel>,
          .ram_sender = backend::construct<XenRamSender>, .quit = quit, .rollback = rollback};
}

}  // namespace lsm::xen

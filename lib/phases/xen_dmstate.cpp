// Phase 1 for Xen: the source sends libxl's configuration of the domain
// and its disk inventory; the destination checks it can host it and
// creates the target images. libxl itself builds the domain in phase 3.
#include "core/log.hpp"
#include "phases/dest_images.hpp"
#include "phases/rollback.hpp"
#include "phases/xen.hpp"
#include "vm/names.hpp"
#include "xen/disks.hpp"
#include "xen/dm_qmp.hpp"
#include "xen/domain.hpp"

namespace lsm::phases::xen {

namespace lx = lsm::xen;

void describe(const DescribeOptions& o, int out_fd) {
  lx::Libxl x;
  std::uint32_t domid = lx::find_domain(x, o.name);
  auto info = lx::domain_info(x, domid);
  if (!info) throw UsageError("unknown domain '" + o.name + "': it just went away");
  if (info->suspended || info->dying)
    throw Error("domain '" + o.name + "' is not running (it is shut down or suspended)");
  if (info->paused)
    throw Error("domain '" + o.name + "' is paused and could not acknowledge the suspend a "
                "live migration needs; unpause it first (xl unpause " + o.name + ")");
  std::string config = lx::domain_config_json(x, domid);
  auto disks = lx::domain_disks(x, domid, config, o.shared_disks);
  bool copies = false;
  for (const auto& d : disks) copies = copies || !d.shared;
  if (copies) {
    lx::DeviceModelQmp dm(domid, info->uuid);
    auto jobs = dm.client().execute("query-block-jobs");
    if (jobs.Size() > 0)
      throw Error("domain '" + o.name + "' already has a block job (" +
                  json::string_at(jobs[0], "device", "query-block-jobs[0]") +
                  "); wait for it or cancel it first");
  }

  proto::Message m = proto::make_message("vm");
  auto& a = m.doc.GetAllocator();
  json::add(m.doc, "name", o.name, a);
  json::add(m.doc, "backend", "xen", a);
  json::Value cfg(rapidjson::kObjectType);
  json::add(cfg, "libxl", config, a);
  json::add(cfg, "type", lx::type_name(info->type), a);
  json::add(cfg, "running", true, a);
  json::add(m.doc, "config", std::move(cfg), a);
  json::Value jd(rapidjson::kArrayType);
  for (const auto& d : disks) jd.PushBack(vm::to_json(d, a), a);
  json::add(m.doc, "disks", std::move(jd), a);
  proto::write_message(out_fd, m, "stdout");
  log::info("described " + o.name + " (" + lx::type_name(info->type) + ", domain " +
            std::to_string(domid) + "): " + std::to_string(disks.size()) + " disk(s)");
}

void prepare(const PrepareOptions& o, const proto::Message& m, int out_fd) {
  std::string name = json::string_at(m.doc, "name", "vm");
  if (!lx::is_dom0())
    throw Error("domain '" + name + "' is a Xen domain but this host is not a Xen dom0");
  const auto& config = json::object_at(m.doc, "config", "vm");
  std::string libxl_config = json::string_at(config, "libxl", "vm.config");
  lx::Libxl x;
  for (const auto& n : {name, incoming_name(name)})
    if (lx::lookup_domain(x, n))
      throw Error("domain '" + n + "' already exists on the destination (xl list)");
  vm::PathMap map(o.maps);
  TargetPlan plan = plan_targets(json::array_at(m.doc, "disks", "vm"), map, o.reuse);
  if (o.dry_run) {
    write_all(out_fd,
              "plan for " + name + ":\n" + describe_targets(plan) + "  restored by libxl as " +
                  incoming_name(name) + " (" + json::string_at(config, "type", "vm.config") +
                  "), renamed " + name + " when it runs\n",
              "stdout");
    return;
  }
  std::string run = vm::run_dir(o.run_dir);
  std::string state_path = vm::state_file(run, name);
  if (path_exists(state_path))
    throw Error("an earlier migration of '" + name + "' left " + state_path +
                "; clean up with: lsm-resume receive " + name + " --rollback");
  vm::DestState state;
  state.name = name;
  state.backend = "xen";
  state.xen_config = libxl_config;
  state.was_running = true;
  state.disks = plan.disks;
  save(state, state_path);
  try {
    create_images(plan, state, state_path);
  } catch (...) {
    rollback_destination(run, name);
    throw;
  }
  write_prepared(out_fd, name, "", state.created);
  log::info("prepared " + name + ": " + std::to_string(state.created.size()) + " image(s) created");
}

}  // namespace lsm::phases::xen

#include "phases/dmstate.hpp"

#include <optional>

#include "core/log.hpp"
#include "core/util.hpp"
#include "mirror/driver.hpp"
#include "phases/dest_images.hpp"
#include "phases/rollback.hpp"
#include "policy/policy.hpp"
#include "vm/lock.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

namespace {

// A VM this host received in a migration that is not settled yet may run
// here or on the host it came from: no new migration until it is.
void refuse_if_committed(const backend::VmRef& vm) {
  if (vm::is_committed(vm.run_dir, vm.name))
    throw Error("'" + vm.name + "' arrived here in a migration that is not settled (" +
                vm::commit_marker(vm.run_dir, vm.name) + "); finish it first with: " +
                vm::recovery_hint(vm.name) + " (on the host it came from)");
}

}  // namespace

void describe(const DescribeOptions& o, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  std::optional<vm::DomainLock> lock;
  if (!o.dry_run) {
    lock.emplace(vm.run_dir, vm.name);
    refuse_if_committed(vm);
  }
  const backend::SourceOps& src = o.backends(o.backend).source;
  backend::Description d = src.describe(vm, o.request);
  if (o.dry_run)
    for (const auto& w : d.warnings) log::notice("warning: " + w);
  if (!o.dry_run) vm::refuse_if_in_progress(vm.run_dir, vm.name);
  bool copies = false;
  for (const auto& disk : d.disks) copies = copies || !disk.shared;
  if (copies)
    src.device_model(vm)->with_qmp(
        [&](qmp::Client& qmp) { mirror::refuse_other_jobs(qmp, vm.name); });
  proto::Vm m;
  m.name = vm.name;
  m.backend = backend::name_of(o.backend);
  m.config.Swap(d.config);
  m.disks = std::move(d.disks);
  if (!o.dry_run) {
    vm::SourceState record;
    record.was_running = m.running();
    for (const auto& disk : m.disks)
      if (!disk.shared) record.disks.push_back(disk.key);
    vm::begin_source_state(vm.run_dir, vm.name, record);
  }
  proto::write_vm(out_fd, m);
  log::info("described " + vm.name + ": " + std::to_string(m.disks.size()) + " disk(s)");
}

void prepare(const PrepareOptions& o, int in_fd, int out_fd) {
  FdReader in(in_fd, "stdin");
  proto::MessageReader reader(in);
  policy::Policy policy = policy::load(o.policy_file);
  proto::Vm m = proto::read_vm(reader);
  backend::VmRef vm = vm_ref(m.name, o.run_dir);
  std::optional<vm::DomainLock> lock;
  if (!o.dry_run) {
    lock.emplace(vm.run_dir, vm.name);
    refuse_if_committed(vm);
  }
  const backend::Backend& be = o.backends(backend::kind_named(m.backend));
  vm::PathMap map(o.maps);
  std::string plan_line = be.destination.plan(vm, m, map, policy);
  TargetPlan plan = plan_targets(m.disks, map, o.reuse, policy);
  if (o.dry_run) {
    write_all(out_fd, "plan for " + vm.name + ":\n" + describe_targets(plan) + "  " + plan_line + "\n",
              "stdout");
    return;
  }

  vm::DestState state;
  state.path = vm::state_file(vm.run_dir, vm.name);
  if (path_exists(state.path))
    throw Error("an earlier migration of '" + vm.name + "' left " + state.path +
                "; clean up with: lsm-resume receive " + vm.name + " --rollback");
  state.name = vm.name;
  state.backend = m.backend;
  state.was_running = m.running();
  state.disks = plan.disks;
  save(state);
  try {
    create_images(plan, state);
    be.destination.start(vm, m, map, policy, state);
  } catch (...) {
    undo_destination(be, vm, state);
    throw;
  }
  proto::write_prepared(out_fd, {vm.name, state.qmp, state.created});
  log::info("prepared " + vm.name + ": " + std::to_string(state.created.size()) +
            " image(s) created");
}

}  // namespace lsm::phases

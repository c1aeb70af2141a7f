#include "phases/resume.hpp"

#include "core/log.hpp"
#include "core/signals.hpp"
#include "core/util.hpp"
#include "vm/lock.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

double commit_destination(const backend::Backend& be, const backend::VmRef& vm,
                          const vm::DestState& state, bool leave_paused) {
  // Once begun, the commit finishes: a signal midway would leave the
  // marker without the guest running.
  be.destination.check_resumable(vm, state);
  return with_signals_deferred([&] {
    vm::mark_committed(vm.run_dir, vm.name);
    try {
      double resumed_at = be.destination.resume(vm, state, leave_paused);
      // The images belong to the running guest now: no rollback may
      // delete them.
      remove_file(state.path);
      return resumed_at;
    } catch (const std::exception& e) {
      throw IndeterminateError("'" + vm.name + "' is committed on this host but did not start: " +
                               lsm::describe(e));
    }
  });
}

void resume_destination(const DestOptions& o, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DomainLock lock(vm.run_dir, vm.name);
  double resumed_at = 0;
  if (path_exists(vm::state_file(vm.run_dir, vm.name))) {
    vm::DestState state = load_incoming(vm);
    resumed_at = commit_destination(o.backends(backend::kind_named(state.backend)), vm, state,
                                    o.leave_paused);
  } else if (vm::is_committed(vm.run_dir, vm.name)) {
    log::info(vm.name + " was committed on this host already");
  } else {
    load_incoming(vm);  // throws: no incoming migration here
  }
  proto::write_resume_result(out_fd, resumed_at);
  log::info("guest " + vm.name + (o.leave_paused ? " is here, paused" : " runs on this host"));
}

void release_destination(const DestOptions& o) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DomainLock lock(vm.run_dir, vm.name);
  if (path_exists(vm::state_file(vm.run_dir, vm.name)))
    throw Error("'" + vm.name + "' has not been committed on this host; nothing to release");
  vm::release_commit(vm.run_dir, vm.name);
}

void quit_source(const SourceOptions& o) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DomainLock lock(vm.run_dir, vm.name);
  o.backends(o.backend).source.quit(vm);
  vm::clear_source_state(vm.run_dir, vm.name);
}

}  // namespace lsm::phases

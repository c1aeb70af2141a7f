#include "phases/rollback.hpp"

#include "core/log.hpp"
#include "core/unix_socket.hpp"
#include "core/util.hpp"
#include "phases/dest_images.hpp"
#include "vm/lock.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

void rollback_source(const SourceRollbackOptions& o) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DomainLock lock(vm.run_dir, vm.name);
  auto record = vm::load_source_state(vm.run_dir, vm.name);
  if (record && record->go && !o.not_committed)
    throw IndeterminateError("the destination was told to run '" + vm.name +
                             "': only its answer can tell whether the copy here may resume; "
                             "settle it with: " + vm::recovery_hint(vm.name));
  o.backends(o.backend).source.rollback(vm, record);
  vm::clear_source_state(vm.run_dir, vm.name);
}

void rollback_destination(const DestOptions& o) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DomainLock lock(vm.run_dir, vm.name);
  if (vm::is_committed(vm.run_dir, vm.name))
    throw IndeterminateError("'" + vm.name + "' was committed on this host (" +
                             vm::commit_marker(vm.run_dir, vm.name) +
                             "): its copy here is the live one; not rolling it back");
  if (!path_exists(vm::state_file(vm.run_dir, vm.name))) {
    log::info("nothing to roll back for " + vm.name + " on this host");
    return;
  }
  vm::DestState state = load_incoming(vm);
  undo_destination(o.backends(backend::kind_named(state.backend)), vm, state);
}

void undo_destination(const backend::Backend& be, const backend::VmRef& vm,
                      const vm::DestState& state) {
  be.destination.rollback(vm, state);
  // A receiver that was killed leaves its socket; a live one removes its own.
  std::string ram = vm::ram_socket(vm.run_dir, vm.name);
  if (probe_socket(ram) == SocketState::kStale) remove_file(ram);
  for (const auto& f : state.created) remove_image(f);
  remove_file(state.path);
  log::info("destination cleaned: " + std::to_string(state.created.size()) + " image(s) removed");
}

}  // namespace lsm::phases

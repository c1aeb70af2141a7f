#include "phases/rollback.hpp"

#include "core/log.hpp"
#include "core/util.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

void rollback_source(const SourceOptions& o) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  o.backends(o.backend).source.rollback(vm, vm::load_source_state(vm.run_dir, vm.name));
  vm::clear_source_state(vm.run_dir, vm.name);
}

void rollback_destination(const DestOptions& o) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  if (!path_exists(vm::state_file(vm.run_dir, vm.name))) {
    log::info("nothing to roll back for " + vm.name + " on this host");
    return;
  }
  vm::DestState state = load_incoming(vm);
  undo_destination(o.backends(backend::kind_named(state.backend)), vm, state);
}

void undo_destination(const backend::Backend& be, const backend::VmRef& vm, const vm::DestState& state) {
  be.destination.rollback(vm, state);
  for (const auto& f : state.created) remove_file(f);
  remove_file(state.path);
  log::info("destination cleaned: " + std::to_string(state.created.size()) + " image(s) removed");
}

}  // namespace lsm::phases

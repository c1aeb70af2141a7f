#include "phases/phases.hpp"

#include "vm/names.hpp"

namespace lsm::phases {

backend::VmRef vm_ref(const std::string& name, const std::string& run_dir) {
  vm::validate_name(name);
  return {vm::run_dir(run_dir), name};
}

vm::DestState load_incoming(const backend::VmRef& vm) {
  return vm::load_dest_state(vm::state_file(vm.run_dir, vm.name));
}

}  // namespace lsm::phases

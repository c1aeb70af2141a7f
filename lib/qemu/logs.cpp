#include "qemu/backend.hpp"
#include "vm/names.hpp"

namespace lsm::qemu {

// Only the destination's QEMU is lsm's to start, and so to log; the
// source's logs wherever its owner chose.
std::vector<std::string> log_files(const backend::VmRef& vm) {
  return {vm::qemu_log(vm.run_dir, vm.name)};
}

}  // namespace lsm::qemu

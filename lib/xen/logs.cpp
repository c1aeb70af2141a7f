#include "xen/backend.hpp"
#include "vm/names.hpp"
#include "xen/domain.hpp"

namespace lsm::xen {

// libxl names a device model's log after the domain's name when it was
// created: NAME on the source, NAME--incoming on the destination.
std::vector<std::string> log_files(const backend::VmRef& vm) {
  const std::string xen_logs = "/var/log/xen/qemu-dm-";
  return {vm::qemu_nbd_log(vm.run_dir, vm.name), xen_logs + vm.name + ".log",
          xen_logs + incoming_name(vm.name) + ".log"};
}

}  // namespace lsm::xen

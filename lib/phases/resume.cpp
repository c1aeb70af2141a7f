#include "phases/resume.hpp"

#include "core/log.hpp"
#include "core/util.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

void resume_destination(const DestOptions& o, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DestState state = load_incoming(vm);
  double resumed_at = o.backends(backend::kind_named(state.backend)).destination.resume(vm, state);
  // Committed: the images belong to the running guest now, and no rollback
  // may delete them.
  remove_file(state.path);
  proto::write_resume_result(out_fd, resumed_at);
  log::info("guest " + vm.name + " runs on this host");
}

void quit_source(const SourceOptions& o) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  o.backends(o.backend).source.quit(vm);
  vm::clear_source_state(vm.run_dir, vm.name);
}

}  // namespace lsm::phases

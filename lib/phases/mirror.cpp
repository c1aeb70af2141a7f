#include "phases/mirror.hpp"

#include "mirror/driver.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

namespace {

std::string local_socket(const MirrorOptions& o, const std::string& remote) {
  if (!o.socket.empty()) return o.socket;
  if (!o.socket_dir.empty()) return o.socket_dir + remote.substr(remote.rfind('/'));
  return remote;
}

}  // namespace

void export_disks(const DestOptions& o, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DestState state = load_incoming(vm);
  const auto& dst = o.backends(backend::kind_named(state.backend)).destination;
  proto::write_exports(out_fd, dst.export_disks(vm, state));
}

void mirror_disks(const MirrorOptions& o, int in_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  FdReader in(in_fd, "stdin");
  proto::MessageReader reader(in);
  proto::Exports exports = proto::read_exports(reader);
  auto dm = o.backends(o.backend).source.device_model(vm);
  std::vector<mirror::MirrorTarget> targets;
  if (!exports.exports.empty())
    dm->with_qmp([&](qmp::Client& qmp) {
      for (const auto& e : exports.exports)
        targets.push_back({e.key, dm->node_of(qmp, e.key), local_socket(o, e.socket), e.name});
    });
  vm::SourceState state;
  state.was_running = dm->guest_running();
  state.mirrors = static_cast<int>(targets.size());
  vm::save_source_state(vm.run_dir, vm.name, state);
  mirror::run_until_ready([&](const auto& fn) { dm->with_qmp(fn); }, targets,
                          {o.bandwidth, o.write_blocking, o.json});
}

}  // namespace lsm::phases

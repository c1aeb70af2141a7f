#include "phases/mirror.hpp"

#include <set>

#include "mirror/driver.hpp"
#include "vm/lock.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

namespace {

std::string local_socket(const MirrorOptions& o, const std::string& remote) {
  if (!o.socket.empty()) return o.socket;
  if (!o.socket_dir.empty()) return o.socket_dir + remote.substr(remote.rfind('/'));
  return remote;
}

// The destination must serve exactly the disks phase 1 found here: one
// left out would be switched over stale, one too many is not this VM's.
void check_exports(const backend::VmRef& vm, const vm::SourceState& record,
                   const proto::Exports& exports) {
  std::set<std::string> want(record.disks.begin(), record.disks.end()), got;
  for (const auto& e : exports.exports)
    if (!got.insert(e.key).second)
      throw proto::ProtocolError("exports: disk " + e.key + " is exported twice");
  auto names = [](const std::set<std::string>& keys) {
    std::string s;
    for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
    return s.empty() ? std::string("none") : s;
  };
  if (want != got)
    throw Error("the destination exports disks " + names(got) + " but '" + vm.name +
                "' has disks " + names(want) + " to copy; roll back and retry");
}

}  // namespace

void export_disks(const DestOptions& o, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DomainLock lock(vm.run_dir, vm.name);
  vm::DestState state = load_incoming(vm);
  const auto& dst = o.backends(backend::kind_named(state.backend)).destination;
  proto::Exports exports = dst.export_disks(vm, state);
  if (dst.receive_ram_socket) exports.ram_socket = vm::ram_socket(vm.run_dir, vm.name);
  proto::write_exports(out_fd, exports);
}

void mirror_disks(const MirrorOptions& o, int in_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  FdReader in(in_fd, "stdin");
  proto::MessageReader reader(in);
  proto::Exports exports = proto::read_exports(reader);
  vm::DomainLock lock(vm.run_dir, vm.name);
  auto record = vm::load_source_state(vm.run_dir, vm.name);
  if (!record)
    throw Error("no migration of '" + vm.name +
                "' was started here; run phase 1 (lsm-dmstate send) first");
  check_exports(vm, *record, exports);
  auto dm = o.backends(o.backend).source.device_model(vm);
  std::vector<mirror::MirrorTarget> targets;
  if (!exports.exports.empty())
    dm->with_qmp([&](qmp::Client& qmp) {
      for (const auto& e : exports.exports)
        targets.push_back({e.key, dm->node_of(qmp, e.key), local_socket(o, e.socket), e.name});
    });
  record->was_running = dm->guest_running();
  record->mirrored = true;
  record->mirrors.clear();
  for (const auto& t : targets) record->mirrors.push_back(t.key);
  vm::save_source_state(vm.run_dir, vm.name, *record);
  mirror::run_until_ready([&](const auto& fn) { dm->with_qmp(fn); }, targets,
                          {o.bandwidth, o.write_blocking, o.json, dm->connection_is_ours()});
}

}  // namespace lsm::phases

#include "phases/ramstream.hpp"

#include "mirror/driver.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

void send_ram(const RamSendOptions& o, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  const backend::SourceOps& src = o.backends(o.backend).source;
  // Switching over with a disk not mirrored would lose its data.
  auto state = vm::load_source_state(vm.run_dir, vm.name);
  if (!state)
    throw Error("no disk mirrors were set up for '" + vm.name +
                "'; run phase 2 (lsm-mirror send) first");
  // One limit for the whole migration: while RAM streams, the mirrors
  // still copy guest writes, so each side gets half.
  std::uint64_t half = o.bandwidth / 2;
  if (state->mirrors > 0)
    src.device_model(vm)->with_qmp([&](qmp::Client& qmp) {
      mirror::ready_for_switchover(qmp, state->mirrors, half);
    });
  auto sender = src.ram_sender(vm, {o.downtime_ms, half, o.json});
  proto::write_ram_stream(out_fd, {vm.name, backend::name_of(o.backend)});
  backend::FinishDisks finish;
  if (state->mirrors > 0)
    finish = [](qmp::Client& qmp) {
      return with_context("finishing disk mirrors with the guest paused",
                          [&] { return mirror::finish_all(qmp); });
    };
  backend::RamSent sent = sender->send(out_fd, finish);
  proto::write_ram_done(out_fd,
                        {sent.ram_bytes, sent.disk_bytes, proto::timestamp(sent.paused_at)});
}

void receive_ram(const RamReceiveOptions& o, int in_fd, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  FdReader in(in_fd, "stdin (the stream from the source)");
  proto::MessageReader reader(in);
  proto::RamStream header = proto::read_ram_stream(reader);
  if (header.name != vm.name)
    throw proto::ProtocolError("stream is for domain '" + header.name + "', not '" + vm.name +
                               "'");
  vm::DestState state = load_incoming(vm);
  if (header.backend != state.backend)
    throw proto::ProtocolError("a " + header.backend + " stream, but phase 1 prepared a " +
                               state.backend + " domain");
  o.backends(backend::kind_named(state.backend)).destination.receive_ram(vm, state, in, o.json);
  proto::write_ram_result(out_fd, proto::read_ram_done(reader));
}

}  // namespace lsm::phases

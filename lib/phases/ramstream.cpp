#include "phases/ramstream.hpp"

#include <chrono>
#include <optional>

#include "core/log.hpp"
#include "core/signals.hpp"
#include "core/unix_socket.hpp"
#include "core/util.hpp"
#include "mirror/driver.hpp"
#include "phases/resume.hpp"
#include "proto/progress.hpp"
#include "vm/lock.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

namespace {

using std::chrono::milliseconds;

vm::SourceState mirrored_record(const backend::VmRef& vm) {
  auto state = vm::load_source_state(vm.run_dir, vm.name);
  // Switching over with a disk not mirrored would lose its data.
  if (!state || !state->mirrored)
    throw Error("no disk mirrors were set up for '" + vm.name +
                "'; run phase 2 (lsm-mirror send) first");
  return *state;
}

backend::DiskHooks disk_hooks(const std::vector<std::string>& mirrors,
                              std::uint64_t max_pause_ms) {
  if (mirrors.empty()) return {};
  return {[mirrors](qmp::Client& qmp) { return mirror::require_all_ready(qmp, mirrors); },
          [mirrors, max_pause_ms](qmp::Client& qmp) {
            return with_context("finishing disk mirrors with the guest paused", [&] {
              return mirror::finish_all(qmp, mirrors, Deadline::in(milliseconds(max_pause_ms)));
            });
          },
          [](qmp::Client& qmp) {
            with_context("releasing the finished disk mirrors", [&] { mirror::release_all(qmp); });
          }};
}

void append_report(const std::string& path, const proto::Message& m) {
  write_all(open_private_log(path).get(), proto::encode(m) + "\n", path);
}

// The source's half of the commit, once the stream is out: everything up to
// "go" may still be undone here; nothing after it.
void coordinate_commit(const RamSendOptions& o, const backend::VmRef& vm, vm::SourceState record,
                       const backend::RamSent& sent, proto::MessageReader& answers, int out_fd) {
  // The pause allowed counts from the guest's pause; a guest that was not
  // running has none, and the destination gets the whole allowance.
  auto left = milliseconds(o.max_pause_ms);
  if (sent.paused_at > 0)
    left -= milliseconds(static_cast<long>((epoch_now() - sent.paused_at) * 1000));
  proto::Message ready = proto::read_ram_result(answers, Deadline::in(std::max(left, milliseconds(1))));
  try {
    // Recorded before it is said: from here on no rollback may resume the
    // source copy without the destination's word.
    with_signals_deferred([&] {
      record.go = true;
      vm::save_source_state(vm.run_dir, vm.name, record);
      proto::write_go(out_fd, vm.name);
    });
    proto::Message ran =
        proto::read_resume_result(answers, Deadline::in(milliseconds(o.commit_timeout_ms)));
    if (!o.report.empty()) {
      append_report(o.report, ready);
      append_report(o.report, ran);
    }
  } catch (const std::exception& e) {
    throw IndeterminateError("the destination was told to run '" + vm.name +
                             "' but did not confirm it (" + lsm::describe(e) +
                             "); settle it with: " + vm::recovery_hint(vm.name));
  }
}

// The receiver says it listens before anything connects: ssh's forward
// would otherwise reach no listener and cut the stream at its first byte.
UniqueFd connect_stream(const RamSendOptions& o, proto::MessageReader& answers) {
  proto::read_ram_listening(answers, Deadline::in(milliseconds(o.commit_timeout_ms)));
  log::info("the RAM stream goes on " + o.stream_socket + ", straight from QEMU");
  return connect_unix(o.stream_socket, "the destination's RAM socket");
}

// What the source says while its stream goes on the socket, up to
// ram-done; the FdReader's idle timeout takes a silent source for dead.
proto::RamDone follow_source(proto::MessageReader& reader, bool json) {
  proto::Progress progress("ram received", json);
  std::uint64_t sent = 0;
  for (;;) {
    if (auto done = proto::read_ram_sent_or_done(reader, sent)) {
      progress.finish(done->bytes, 0, "complete");
      return *done;
    }
    progress.update(sent, 0);
  }
}

}  // namespace

void send_ram(const RamSendOptions& o, int in_fd, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  vm::DomainLock lock(vm.run_dir, vm.name);
  const backend::SourceOps& src = o.backends(o.backend).source;
  vm::SourceState record = mirrored_record(vm);
  // One limit for the whole migration: while RAM streams, the mirrors
  // still copy guest writes, so each side gets half.
  std::uint64_t half = o.bandwidth / 2;
  if (!record.mirrors.empty())
    src.device_model(vm)->with_qmp([&](qmp::Client& qmp) {
      mirror::ready_for_switchover(qmp, record.mirrors, half);
    });
  auto sender = src.ram_sender(vm, {o.downtime_ms, half, o.max_pause_ms, o.json});
  FdReader in(in_fd, "the destination's answers");
  proto::MessageReader answers(in);
  UniqueFd socket;
  if (!o.stream_socket.empty()) socket = connect_stream(o, answers);
  widen_pipe(out_fd);
  proto::write_ram_stream(out_fd, {vm.name, backend::name_of(o.backend), bool(socket)});
  try {
    backend::RamSent sent =
        sender->send(out_fd, std::move(socket), disk_hooks(record.mirrors, o.max_pause_ms));
    proto::write_ram_done(out_fd,
                          {sent.ram_bytes, sent.disk_bytes, proto::timestamp(sent.paused_at)});
    if (o.commit) coordinate_commit(o, vm, record, sent, answers, out_fd);
  } catch (const IndeterminateError&) {
    throw;
  } catch (const std::exception& e) {
    // Before "go" the source copy is the VM: resume it now rather than
    // after the orchestrator's rollback, so the pause ends here.
    log::error(lsm::describe(e) + "; resuming the guest here");
    // Its monitor connection first: QEMU serves one client at a time.
    sender.reset();
    try {
      src.rollback(vm, record);
    } catch (const std::exception& r) {
      log::error("resuming the guest: " + lsm::describe(r));
    }
    throw;
  }
}

void receive_ram(const RamReceiveOptions& o, int in_fd, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  std::optional<UnixListener> listener;
  if (o.listen) {
    listener.emplace(vm::ram_socket(vm.run_dir, vm.name), "RAM stream socket");
    proto::write_ram_listening(out_fd);
  }
  widen_pipe(in_fd);
  FdReader in(in_fd, "the stream from the source");
  // lsm-migrate.sh starts this while the disks still mirror, so that phase 3
  // starts no ssh session: until the stream's first byte it waits as long as
  // the source takes, holding nothing, and a source that ends first (a
  // failed phase 2) leaves it nothing to do.
  if (in.at_end(Deadline::never())) {
    log::info("the source sent no RAM stream for " + vm.name + "; nothing received");
    return;
  }
  vm::DomainLock lock(vm.run_dir, vm.name);
  in.set_idle_timeout(milliseconds(o.idle_timeout_ms));
  proto::MessageReader reader(in);
  proto::RamStream header = proto::read_ram_stream(reader);
  if (header.name != vm.name)
    throw proto::ProtocolError("stream is for domain '" + header.name + "', not '" + vm.name +
                               "'");
  vm::DestState state = load_incoming(vm);
  if (header.backend != state.backend)
    throw proto::ProtocolError("a " + header.backend + " stream, but phase 1 prepared a " +
                               state.backend + " domain");
  const backend::Backend& be = o.backends(backend::kind_named(state.backend));
  if (header.on_socket) {
    if (!listener)
      throw proto::ProtocolError("the source sends its RAM stream on a socket, but this "
                                 "receiver was started without --listen");
    if (!be.destination.receive_ram_socket)
      throw proto::ProtocolError("a " + state.backend +
                                 " destination takes its RAM stream as frames only");
    UniqueFd stream = listener->accept(Deadline::in(milliseconds(o.idle_timeout_ms)));
    log::info("taking the RAM stream of " + vm.name + " on " + listener->path());
    listener.reset();
    proto::RamDone done;
    be.destination.receive_ram_socket(vm, state, std::move(stream),
                                      [&] { done = follow_source(reader, o.json); });
    proto::write_ram_result(out_fd, done);
  } else {
    be.destination.receive_ram(vm, state, in, o.json);
    proto::write_ram_result(out_fd, proto::read_ram_done(reader));
  }
  auto go = proto::read_go(in, Deadline::in(milliseconds(o.go_timeout_ms)));
  if (!go) {
    log::info("the source ended the stream without go: " + vm.name +
              " stays here paused and uncommitted");
    return;
  }
  if (*go != vm.name) throw proto::ProtocolError("go is for domain '" + *go + "', not '" + vm.name + "'");
  proto::write_resume_result(out_fd, commit_destination(be, vm, state, o.leave_paused));
  log::info("guest " + vm.name + (o.leave_paused ? " is here, paused" : " runs on this host"));
}

}  // namespace lsm::phases

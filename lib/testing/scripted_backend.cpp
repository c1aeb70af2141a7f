#include "testing/scripted_backend.hpp"

#include <cstring>

#include "proto/messages.hpp"

namespace lsm::testing {

namespace {

using backend::VmRef;

class ScriptedSender : public backend::RamSender {
 public:
  explicit ScriptedSender(ScriptedBackend& be) : be_(be) {}
  backend::RamSent send(int out_fd, UniqueFd socket, const backend::DiskHooks& disks) override {
    be_.step(socket ? "send_on_socket" : "send");
    if (socket) proto::write_ram_sent(out_fd, std::strlen(ScriptedBackend::kPayload));
    write_all(socket ? socket.get() : out_fd, ScriptedBackend::kPayload, "the stream");
    if (disks.finish) be_.step("finish_disks");
    return {std::strlen(ScriptedBackend::kPayload), 0, 1000.5};
  }

 private:
  ScriptedBackend& be_;
};

class ScriptedDeviceModel : public backend::DeviceModel {
 public:
  explicit ScriptedDeviceModel(ScriptedBackend& be) : be_(be) {}
  void with_qmp(const std::function<void(qmp::Client&)>&) override {
    be_.step("with_qmp");
    throw Error("the scripted backend has no device model to talk to");
  }
  std::string node_of(qmp::Client&, const std::string& key) override { return key; }
  bool guest_running() override { return true; }
  bool connection_is_ours() const override { return true; }

 private:
  ScriptedBackend& be_;
};

}  // namespace

void ScriptedBackend::step(const std::string& op) {
  calls.push_back(op);
  if (op != fail_at) return;
  if (fail_indeterminate) throw IndeterminateError("scripted: " + op + " may have run the guest");
  throw Error("scripted failure at " + op);
}

ScriptedBackend::ScriptedBackend() {
  auto& src = table_.source;
  src.describe = [this](const VmRef&, const backend::DescribeRequest&) {
    step("describe");
    backend::Description d;
    json::add(d.config, "running", true, d.config.GetAllocator());
    return d;
  };
  src.device_model = [this](const VmRef&) -> std::unique_ptr<backend::DeviceModel> {
    step("device_model");
    return std::make_unique<ScriptedDeviceModel>(*this);
  };
  src.ram_sender = [this](const VmRef&,
                          const backend::RamLimits& limits) -> std::unique_ptr<backend::RamSender> {
    step("ram_sender");
    limits_seen = limits;
    return std::make_unique<ScriptedSender>(*this);
  };
  src.quit = [this](const VmRef&) { step("quit_source"); };
  src.rollback = [this](const VmRef&, const std::optional<vm::SourceState>& recorded) {
    step(recorded ? "rollback_source(recorded)" : "rollback_source");
  };

  auto& dst = table_.destination;
  dst.plan = [this](const VmRef&, const proto::Vm&, const vm::PathMap&, const policy::Policy&) {
    step("plan_destination");
    return std::string("scripted plan");
  };
  dst.start = [this](const VmRef&, const proto::Vm&, const vm::PathMap&, const policy::Policy&,
                     vm::DestState&) {
    step("start_destination");
  };
  dst.export_disks = [this](const VmRef&, vm::DestState&) {
    step("export_disks");
    return proto::Exports{"/scripted.nbd", {}, {}};
  };
  dst.receive_ram = [this](const VmRef&, vm::DestState&, FdReader& in, bool) {
    step("receive_ram");
    if (in.read_exact(std::strlen(kPayload), Deadline::never()) != kPayload)
      throw Error("scripted receiver: not the scripted payload");
  };
  dst.receive_ram_socket = [this](const VmRef&, vm::DestState&, UniqueFd stream,
                                  const std::function<void()>& follow_source) {
    step("receive_ram_socket");
    follow_source();
    FdReader in(stream.get(), "the scripted socket");
    if (in.read_exact(std::strlen(kPayload), Deadline::never()) != kPayload)
      throw Error("scripted receiver: not the scripted payload on the socket");
  };
  dst.check_resumable = [this](const VmRef&, const vm::DestState&) { step("check_resumable"); };
  dst.resume = [this](const VmRef&, const vm::DestState&, bool) {
    step("resume");
    return 1001.25;
  };
  dst.rollback = [this](const VmRef&, const vm::DestState&) { step("rollback_destination"); };
}

}  // namespace lsm::testing

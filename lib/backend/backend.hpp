// A backend is what one hypervisor stack does for each step of a
// migration: plain QEMU (lib/qemu/backend.hpp) or Xen through libxl
// (lib/xen/backend.hpp). Like nbdkit's plugin table, it is one struct of
// operations, filled in by each backend; the phase layer (lib/phases) calls it and owns everything
// both share: the order of the steps, the messages, the state files, the
// checks and the bandwidth split. A backend never names another one, and
// only backend/choose.cpp names them all.
//
// Error contract: every operation throws lsm::Error with context (which
// disk, what QEMU or libxl said) and leaves its host in a state that the
// matching rollback operation undoes. IndeterminateError means "the guest
// may run here now": nobody may roll back past it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"
#include "policy/policy.hpp"
#include "proto/messages.hpp"
#include "qmp/client.hpp"
#include "vm/dest_state.hpp"
#include "vm/path_map.hpp"
#include "vm/source_state.hpp"

namespace lsm::backend {

enum class Kind { kQemu, kXen };

// Which VM, and the run directory (already resolved) of this host.
struct VmRef {
  std::string run_dir;
  std::string name;
};

// Phase 1 on the source: what the operator asked of the description.
struct DescribeRequest {
  std::vector<std::string> shared_disks;  // image paths both hosts see
  // xl migrate -C: the configuration file the destination uses instead of
  // the running domain's (Xen only).
  std::string config_file;
};

// Phase 1 on the source: the backend's own description of the VM.
struct Description {
  json::Document config{rapidjson::kObjectType};  // vm.config, with "running"
  std::vector<proto::Disk> disks;
  // Hazards of moving this VM that do not stop it, for the operator to read
  // before anything starts: a dry run prints them (lsm-migrate.sh makes one
  // first).
  std::vector<std::string> warnings;
};

// The source's device model, where the disk mirrors run.
class DeviceModel {
 public:
  virtual ~DeviceModel() = default;
  // Runs fn on a QMP connection to it.
  virtual void with_qmp(const std::function<void(qmp::Client&)>& fn) = 0;
  // Whether that connection is lsm's for as long as this object lives, so
  // that waiting on it for events keeps no one else from the monitor.
  virtual bool connection_is_ours() const = 0;
  // The block node of the disk called key in the "vm" message.
  virtual std::string node_of(qmp::Client& qmp, const std::string& key) = 0;
  // Whether the guest runs now (a rollback restores exactly that).
  virtual bool guest_running() = 0;
};

struct RamLimits {
  std::uint64_t downtime_ms = 300;
  std::uint64_t bandwidth = 0;  // bytes/s for the RAM stream; 0: unlimited
  // The longest the guest may stay paused here before the source gives up
  // and resumes it (the sender throws once it is over).
  std::uint64_t max_pause_ms = 30000;
  bool json = false;  // progress as JSON lines
};

// The mirrors, as the phase layer drives them while RAM streams; the
// backend calls these on a QMP connection to the device model. Both are
// empty when no disk is mirrored.
struct DiskHooks {
  // Now and then while RAM streams: throws if a mirror failed, so the
  // migration stops before the switchover; returns the bytes the mirrors
  // are behind the guest's writes, which the pause will have to copy.
  std::function<std::uint64_t(qmp::Client&)> check;
  // With the guest paused, before any device state leaves: the disks'
  // consistent point. Returns the disk bytes copied.
  std::function<std::uint64_t(qmp::Client&)> finish;
  // Once the device state is out too: removes what the finished mirrors
  // leave (their jobs and NBD nodes), while the destination loads the
  // state rather than before it is sent.
  std::function<void(qmp::Client&)> release;
};

struct RamSent {
  std::uint64_t ram_bytes = 0;
  std::uint64_t disk_bytes = 0;
  double paused_at = 0;  // seconds since the epoch; 0 if the guest never ran
};

// Phase 3 on the source, in two steps so that a failure while setting up
// happens before the stream's first byte.
class RamSender {
 public:
  virtual ~RamSender() = default;
  // Streams RAM and device state until the guest has switched over,
  // calling the disk hooks on the way: as frames on out_fd, or, given a
  // socket (connected to the destination's ram_socket), the device model's
  // own bytes there, with out_fd carrying only ram-sent lines. A backend
  // without receive_ram_socket is never given one.
  virtual RamSent send(int out_fd, UniqueFd socket, const DiskHooks& disks) = 0;
};

// What a backend does on the source host.
struct SourceOps {
  // Phase 1: finds the VM (UsageError if there is none), checks that it can
  // migrate and describes it.
  std::function<Description(const VmRef& vm, const DescribeRequest& request)> describe;
  // Phases 2 and 3: the device model the mirrors run in.
  std::function<std::unique_ptr<DeviceModel>(const VmRef& vm)> device_model;
  // Phase 3: connects and sets the stream up (downtime, bandwidth).
  std::function<std::unique_ptr<RamSender>(const VmRef& vm, const RamLimits& limits)> ram_sender;
  // Phase 4, after the destination runs the guest: ends the source copy.
  std::function<void(const VmRef& vm)> quit;
  // Before the commit: cancels the migration and the mirrors and resumes
  // the guest if lsm paused it (recorded: what phase 2 saw, if it ran).
  std::function<void(const VmRef& vm, const std::optional<vm::SourceState>& recorded)> rollback;
};

// What a backend does on the destination host.
struct DestinationOps {
  // Phase 1: checks that this host can take the VM and that its policy
  // allows what the description asks this host to run (before anything
  // is created); returns what start will do, for --dry-run.
  std::function<std::string(const VmRef& vm, const proto::Vm& m, const vm::PathMap& map,
                            const policy::Policy& policy)>
      plan;
  // Phase 1, once the images exist: readies this host for the stream,
  // recording in state (and saving it) whatever it starts.
  std::function<void(const VmRef& vm, const proto::Vm& m, const vm::PathMap& map,
                     const policy::Policy& policy, vm::DestState& state)>
      start;
  // Phase 2: serves every non-shared disk of state over NBD on unix sockets.
  std::function<proto::Exports(const VmRef& vm, vm::DestState& state)> export_disks;
  // Phase 3: feeds the stream on in (after its header, up to its trailer)
  // to the VM here.
  std::function<void(const VmRef& vm, vm::DestState& state, FdReader& in, bool json)> receive_ram;
  // Phase 3, instead, for a device model that reads the stream itself:
  // hands it the connection on the receiver's socket, runs follow_source
  // (which returns once the source said ram-done), then waits until the VM
  // is all here. Empty for a backend that takes frames only.
  std::function<void(const VmRef& vm, vm::DestState& state, UniqueFd stream,
                     const std::function<void()>& follow_source)>
      receive_ram_socket;
  // Phase 4, before the commit: throws unless the VM is all here and can
  // be run (nothing is changed, so a rollback may still follow).
  std::function<void(const VmRef& vm, const vm::DestState& state)> check_resumable;
  // Phase 4, the commit: the guest runs here if it ran on the source and
  // leave_paused is false (xl migrate -p). Returns when it resumed, in
  // seconds since the epoch; 0 if not resumed.
  std::function<double(const VmRef& vm, const vm::DestState& state, bool leave_paused)> resume;
  // Stops what start and export_disks started and removes their files (not
  // the images); IndeterminateError if the guest may run here.
  std::function<void(const VmRef& vm, const vm::DestState& state)> rollback;
};

struct Backend {
  SourceOps source;
  DestinationOps destination;
  // The logs this host may hold of the VM's processes (device model, NBD
  // servers), existing or not: what --debug keeps of each host.
  std::function<std::vector<std::string>(const VmRef& vm)> log_files;
};

// A table entry that builds the backend's own T from the operation's
// arguments (device_model, ram_sender).
template <typename T>
inline const auto construct = [](const auto&... args) { return std::make_unique<T>(args...); };

}  // namespace lsm::backend

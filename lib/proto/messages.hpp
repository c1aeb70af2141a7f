// The messages of docs/protocol.md section 3 as types: one writer and,
// where a tool reads it, one reader per message type. schema.cpp checks
// every line against the same table on the way out and on the way in;
// these add the fields the schema leaves optional and give them C++ types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "json/json.hpp"
#include "proto/disk.hpp"
#include "proto/message.hpp"

namespace lsm::proto {

// Phase 1, source -> destination. config is the backend's own description
// (3.1, 3.8); every backend's has "running".
struct Vm {
  std::string name;
  std::string backend;
  json::Document config{rapidjson::kObjectType};
  std::vector<Disk> disks;

  bool running() const { return json::bool_at(config, "running", "vm.config"); }
};
void write_vm(int fd, const Vm& m);
Vm read_vm(MessageReader& in);

// Phase 1, destination -> orchestrator.
struct Prepared {
  std::string name;
  std::string qmp;  // the destination device model's QMP socket, if one runs
  std::vector<std::string> created;
};
void write_prepared(int fd, const Prepared& m);

// Phase 2, destination -> source.
struct Export {
  std::string key;
  std::string name;    // the NBD export name
  std::string socket;  // the destination-local unix socket serving it
};
struct Exports {
  std::string socket;  // the default for exports that name none
  std::vector<Export> exports;
  // Where phase 3's receiver takes the stream on a socket of its own
  // (--listen), for a backend whose device model reads it directly;
  // empty: the stream goes as frames on the receiver's stdin.
  std::string ram_socket;
};
void write_exports(int fd, const Exports& m);
Exports read_exports(MessageReader& in);

// Phase 3 header and trailer, source -> destination.
struct RamStream {
  std::string name;
  std::string backend;
  // The bytes go on the receiver's socket, not as frames after this line.
  bool on_socket = false;
};
inline constexpr const char* kStreamOut = "stdout (the stream to the destination)";
void write_ram_stream(int fd, const RamStream& m);
RamStream read_ram_stream(MessageReader& in);

// Destination -> source, first thing with --listen: the receiver listens
// on the exports' ram_socket, so the source may connect.
void write_ram_listening(int fd);
void read_ram_listening(MessageReader& in, Deadline deadline);

// Source -> destination while the stream goes on a socket: the bytes the
// source QEMU has sent, at each look. The receiver's sign that the source
// lives while its stdin carries nothing else.
void write_ram_sent(int fd, std::uint64_t bytes);

struct RamDone {
  std::uint64_t bytes = 0;
  std::uint64_t disk_bytes = 0;
  std::string paused_at;  // timestamp(), on the source's clock
};
void write_ram_done(int fd, const RamDone& m);
RamDone read_ram_done(MessageReader& in);
// The next ram-sent (its bytes, in sent) or ram-done (returned).
std::optional<RamDone> read_ram_sent_or_done(MessageReader& in, std::uint64_t& sent);

// Destination -> source: the VM is all here, paused, ready to run; with
// the figures for the orchestrator's summary.
void write_ram_result(int fd, const RamDone& received);
Message read_ram_result(MessageReader& in, Deadline deadline);

// Source -> destination: run it. The only message after which the
// destination may run the guest.
void write_go(int fd, const std::string& name);
// The next message, which must be "go" for name; nullopt on a clean end of
// stream (the source stopped before deciding).
std::optional<std::string> read_go(FdReader& in, Deadline deadline);

// Destination -> source: it runs here (resumed_at, on this host's clock).
void write_resume_result(int fd, double resumed_at);
Message read_resume_result(MessageReader& in, Deadline deadline);

}  // namespace lsm::proto

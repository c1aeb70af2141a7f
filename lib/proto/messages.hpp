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
};
void write_exports(int fd, const Exports& m);
Exports read_exports(MessageReader& in);

// Phase 3 header and trailer, source -> destination.
struct RamStream {
  std::string name;
  std::string backend;
};
inline constexpr const char* kStreamOut = "stdout (the stream to the destination)";
void write_ram_stream(int fd, const RamStream& m);
RamStream read_ram_stream(MessageReader& in);

struct RamDone {
  std::uint64_t bytes = 0;
  std::uint64_t disk_bytes = 0;
  std::string paused_at;  // timestamp(), on the source's clock
};
void write_ram_done(int fd, const RamDone& m);
RamDone read_ram_done(MessageReader& in);

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

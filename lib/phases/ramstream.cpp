#include "phases/ramstream.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <thread>

#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/unique_fd.hpp"
#include "mirror/jobs.hpp"
#include "proto/frame.hpp"
#include "proto/message.hpp"
#include "qemu/launch.hpp"
#include "qemu/migration.hpp"
#include "phases/xen.hpp"
#include "qmp/client.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {

using namespace std::chrono_literals;

namespace {

constexpr const char* kFdName = "lsm-ram";
// QEMU's own default caps migration at 128 MiB/s; "unlimited" must say so.
constexpr std::uint64_t kUnlimited = 1ull << 40;

// A socketpair rather than a pipe: shutdown() wakes a thread blocked on it.
std::pair<UniqueFd, UniqueFd> stream_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    throw SystemError("socketpair", errno);
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

std::string migration_status(const qmp::Event& e) {
  return json::string_at(e.data(), "status", "MIGRATION");
}

std::string migration_error(qmp::Client& qmp) {
  auto info = qmp.execute("query-migrate");
  const json::Value* d = json::find(info, "error-desc");
  return d && d->IsString() ? d->GetString() : "no reason given";
}

void migrate_uri(qmp::Client& qmp, const char* command) {
  json::Document args(rapidjson::kObjectType);
  json::add(args, "uri", std::string("fd:") + kFdName, args.GetAllocator());
  qmp.execute(command, &args);
}

// Copies QEMU's outgoing stream into frames on out_fd, on its own thread so
// QMP stays responsive while the bytes flow.
class Pump {
 public:
  Pump(int from, int out_fd) : writer_(out_fd, "stdout (the stream to the destination)") {
    thread_ = std::thread([this, from] { run(from); });
  }
  ~Pump() {
    if (thread_.joinable()) thread_.join();
  }
  void join() { thread_.join(); }
  std::uint64_t bytes() const { return bytes_; }
  const std::string& error() const { return error_; }
  proto::FrameWriter& writer() { return writer_; }

 private:
  void run(int from) {
    try {
      FdReader in(from, "QEMU's migration stream");
      for (std::string s; !(s = in.read_some(1 << 20, Deadline::never())).empty();) {
        writer_.data(s);
        bytes_ += s.size();
      }
    } catch (const std::exception& e) {
      error_ = lsm::describe(e);
      // QEMU must see its stream break too, or it would wait forever.
      ::shutdown(from, SHUT_RDWR);
    }
  }

  proto::FrameWriter writer_;
  std::thread thread_;
  std::atomic<std::uint64_t> bytes_{0};
  std::string error_;
};

}  // namespace

void send_ram(const RamSendOptions& o, int out_fd) {
  vm::validate_name(o.name);
  if (o.backend == "xen") return xen::send_ram(o, out_fd);
  std::string run = vm::run_dir(o.run_dir);
  qmp::Client qmp = qmp::Client::connect(vm::qmp_socket(run, o.name));
  // Switching over with a disk not mirrored would lose its data.
  auto state = vm::load_source_state(run, o.name);
  if (!state)
    throw Error("no disk mirrors were set up for '" + o.name +
                "'; run phase 2 (lsm-mirror send) first");
  mirror::require_all_ready(qmp, state->mirrors);
  auto jobs = mirror::list(qmp);
  qemu::enable_capabilities(qmp, {"pause-before-switchover", "events"});
  // One limit for the whole migration: while RAM streams, the mirrors still
  // copy guest writes, so each side gets half.
  std::uint64_t ram_bandwidth = o.bandwidth ? o.bandwidth / 2 : kUnlimited;
  if (o.bandwidth)
    for (const auto& j : jobs) mirror::set_speed(qmp, j.id, o.bandwidth / 2 / jobs.size());
  {
    json::Document args(rapidjson::kObjectType);
    auto& a = args.GetAllocator();
    json::add(args, "downtime-limit", o.downtime_ms, a);
    json::add(args, "max-bandwidth", ram_bandwidth, a);
    qmp.execute("migrate-set-parameters", &args);
  }
  proto::Message header = proto::make_message("ram-stream");
  json::add(header.doc, "name", o.name, header.doc.GetAllocator());
  json::add(header.doc, "backend", "qemu", header.doc.GetAllocator());
  proto::write_message(out_fd, header, "stdout (the stream to the destination)");

  auto [ours, theirs] = stream_pair();
  qmp.getfd(kFdName, theirs.get());
  theirs.reset();
  Pump pump(ours.get(), out_fd);
  Progress progress("ram", o.json);
  double paused_at = 0;
  std::uint64_t disk_bytes = 0;
  try {
    migrate_uri(qmp, "migrate");
    for (;;) {
      if (auto stop = qmp.next_event("STOP", 0ms)) paused_at = stop->timestamp();
      auto e = qmp.next_event("MIGRATION", 500ms);
      if (!e) {
        auto info = qmp.execute("query-migrate");
        if (const json::Value* ram = json::find(info, "ram"))
          progress.update(json::u64_at(*ram, "transferred", "ram"),
                          json::u64_at(*ram, "total", "ram"));
        continue;
      }
      std::string st = migration_status(*e);
      log::debug("migration status " + st);
      if (st == "pre-switchover") {
        // The guest is paused and no more guest writes can happen: this is
        // the disks' consistent point, before any device state is sent.
        disk_bytes = with_context("finishing disk mirrors at switchover",
                                  [&] { return mirror::finish_all(qmp); });
        json::Document args(rapidjson::kObjectType);
        json::add(args, "state", "pre-switchover", args.GetAllocator());
        qmp.execute("migrate-continue", &args);
      } else if (st == "completed") {
        break;
      } else if (st == "failed" || st == "cancelled") {
        throw Error("RAM migration " + st + ": " + migration_error(qmp) +
                    (pump.error().empty() ? "" : " (" + pump.error() + ")"));
      }
    }
    if (auto stop = qmp.next_event("STOP", 0ms)) paused_at = stop->timestamp();
  } catch (...) {
    try {
      qmp.execute("migrate_cancel");
    } catch (const std::exception& e) {
      log::error("migrate_cancel after failure: " + lsm::describe(e));
    }
    ::shutdown(ours.get(), SHUT_RDWR);
    pump.join();
    throw;
  }
  pump.join();
  if (!pump.error().empty()) throw Error("RAM stream: " + pump.error());
  pump.writer().end();
  progress.finish(pump.bytes(), pump.bytes(), "switched over");
  proto::Message done = proto::make_message("ram-done");
  auto& a = done.doc.GetAllocator();
  json::add(done.doc, "bytes", pump.bytes(), a);
  json::add(done.doc, "disk_bytes", disk_bytes, a);
  json::add(done.doc, "paused_at", proto::timestamp(paused_at), a);
  proto::write_message(out_fd, done, "stdout (the stream to the destination)");
}

void receive_ram(const RamReceiveOptions& o, int in_fd, int out_fd) {
  vm::validate_name(o.name);
  std::string run = vm::run_dir(o.run_dir);
  FdReader in(in_fd, "stdin (the stream from the source)");
  proto::MessageReader reader(in);
  proto::Message header = reader.read("ram-stream");
  std::string sent = json::string_at(header.doc, "name", "ram-stream");
  if (sent != o.name)
    throw proto::ProtocolError("stream is for domain '" + sent + "', not '" + o.name + "'");
  vm::DestState s = vm::load_dest_state(vm::state_file(run, o.name));
  std::string backend = json::string_at(header.doc, "backend", "ram-stream");
  if (backend != s.backend)
    throw proto::ProtocolError("a " + backend + " stream, but phase 1 prepared a " + s.backend +
                               " domain");
  if (backend == "xen") return xen::receive_ram(o, in, out_fd);
  qmp::Client qmp = qmp::Client::connect(s.qmp);
  auto [ours, theirs] = stream_pair();
  qmp.getfd(kFdName, theirs.get());
  theirs.reset();
  migrate_uri(qmp, "migrate-incoming");
  Progress progress("ram received", o.json);
  proto::FrameReader frames(in, "RAM stream");
  try {
    while (auto chunk = frames.next()) {
      write_all(ours.get(), *chunk, "the destination QEMU");
      progress.update(frames.total(), 0);
    }
  } catch (const std::exception& e) {
    ::shutdown(ours.get(), SHUT_RDWR);
    throw Error(lsm::describe(e) + " (destination QEMU log: " +
                qemu::log_tail(vm::qemu_log(run, o.name), 300) + ")");
  }
  ::shutdown(ours.get(), SHUT_WR);
  proto::Message done = reader.read("ram-done");
  for (;;) {
    auto e = qmp.wait_event("MIGRATION", 120s);
    std::string st = migration_status(e);
    if (st == "completed") break;
    if (st == "failed" || st == "cancelled")
      throw Error("incoming migration " + st + ": " + migration_error(qmp) +
                  " (QEMU log: " + qemu::log_tail(vm::qemu_log(run, o.name), 300) + ")");
  }
  progress.finish(frames.total(), 0, "complete");
  proto::Message result = proto::make_message("result");
  auto& a = result.doc.GetAllocator();
  json::add(result.doc, "phase", "ram", a);
  json::add(result.doc, "ok", true, a);
  json::add(result.doc, "ram_bytes", frames.total(), a);
  json::add(result.doc, "disk_bytes", json::u64_at(done.doc, "disk_bytes", "ram-done"), a);
  json::add(result.doc, "paused_at", json::string_at(done.doc, "paused_at", "ram-done"), a);
  proto::write_message(out_fd, result, "stdout");
}

}  // namespace lsm::phases

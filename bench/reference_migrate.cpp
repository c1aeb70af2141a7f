// lsm-bench-reference: the bare QMP sequence libvirt drives for a migration
// with local disks (qemuMigrationSrcNBDStorageCopy, then the migration, then
// the mirrors cancelled while the source is paused, then Finish on the
// destination), so that `make bench` can hold lsm's figures against it over
// the same ssh. The destination's QMP socket, its NBD server and its
// migration listener are reached through unix sockets that the caller
// forwards over ssh; this program only speaks QMP.
//
// Prints one JSON line: {"downtime_ms":N,"disk_s":S,"ram_s":S}, downtime
// being the source's STOP to the destination's RESUME, by QEMU's clocks.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/main.hpp"
#include "core/deadline.hpp"
#include "qemu/migration.hpp"
#include "qmp/client.hpp"

namespace {

using namespace std::chrono_literals;
using lsm::json::Document;

struct Options {
  std::string src_qmp, dst_qmp;
  std::string nbd_local, nbd_remote;
  std::string migrate_local, migrate_remote;
  std::vector<std::string> drives;
  std::uint64_t downtime_ms = 300;
};

constexpr auto kLong = 600s;

Document object() { return Document(rapidjson::kObjectType); }

// nbd-server-start takes QEMU's legacy SocketAddress: {"type","data"}.
lsm::json::Value unix_address(const std::string& path, lsm::json::Allocator& a) {
  lsm::json::Value data(rapidjson::kObjectType), v(rapidjson::kObjectType);
  lsm::json::add(data, "path", path, a);
  lsm::json::add(v, "type", "unix", a);
  lsm::json::add(v, "data", std::move(data), a);
  return v;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void export_drives(lsm::qmp::Client& dst, const Options& o) {
  Document args = object();
  auto& a = args.GetAllocator();
  lsm::json::add(args, "addr", unix_address(o.nbd_remote, a), a);
  dst.execute("nbd-server-start", &args);
  for (const auto& drive : o.drives) {
    Document add = object();
    lsm::json::add(add, "device", drive, add.GetAllocator());
    lsm::json::add(add, "writable", true, add.GetAllocator());
    dst.execute("nbd-server-add", &add);
  }
}

// drive-mirror to the NBD export, as libvirt does for a drive given with -drive.
void mirror_drives(lsm::qmp::Client& src, const Options& o) {
  for (const auto& drive : o.drives) {
    Document args = object();
    auto& a = args.GetAllocator();
    lsm::json::add(args, "job-id", "ref-" + drive, a);
    lsm::json::add(args, "device", drive, a);
    lsm::json::add(args, "target", "nbd:unix:" + o.nbd_local + ":exportname=" + drive, a);
    lsm::json::add(args, "sync", "full", a);
    lsm::json::add(args, "mode", "existing", a);
    lsm::json::add(args, "format", "raw", a);
    src.execute("drive-mirror", &args);
  }
  for (std::size_t ready = 0; ready < o.drives.size(); ++ready) src.wait_event("BLOCK_JOB_READY", kLong);
}

void migrate(lsm::qmp::Client& src, lsm::qmp::Client& dst, const Options& o) {
  lsm::qemu::enable_capabilities(src, {"events"});
  lsm::qemu::enable_capabilities(dst, {"events"});
  Document params = object();
  lsm::json::add(params, "downtime-limit", o.downtime_ms, params.GetAllocator());
  lsm::json::add(params, "max-bandwidth", std::uint64_t{1} << 40, params.GetAllocator());
  src.execute("migrate-set-parameters", &params);

  Document incoming = object();
  lsm::json::add(incoming, "uri", "unix:" + o.migrate_remote, incoming.GetAllocator());
  dst.execute("migrate-incoming", &incoming);
  Document out = object();
  lsm::json::add(out, "uri", "unix:" + o.migrate_local, out.GetAllocator());
  src.execute("migrate", &out);
  for (;;) {
    std::string st = lsm::qemu::migration_status(src.wait_event("MIGRATION", kLong));
    if (st == "completed") return;
    if (st == "failed" || st == "cancelled")
      throw lsm::Error("reference migration " + st + ": " + lsm::qemu::migration_error(src));
  }
}

// The source is paused: cancelling a READY mirror first copies what is left.
void finish_mirrors(lsm::qmp::Client& src, const Options& o) {
  for (const auto& drive : o.drives) {
    Document args = object();
    lsm::json::add(args, "device", "ref-" + drive, args.GetAllocator());
    src.execute("block-job-cancel", &args);
  }
  for (std::size_t done = 0; done < o.drives.size(); ++done) src.wait_event("BLOCK_JOB_COMPLETED", kLong);
}

double finish_destination(lsm::qmp::Client& dst) {
  lsm::Deadline deadline = lsm::Deadline::in(kLong);
  while (lsm::qemu::migration_status(dst) != "completed") {
    if (deadline.expired()) throw lsm::TimeoutError("the destination never completed the migration");
    dst.next_event("MIGRATION", 100ms);
  }
  dst.execute("nbd-server-stop");
  dst.execute("cont");
  return dst.wait_event("RESUME", kLong).timestamp();
}

void run(const Options& o) {
  auto src = lsm::qmp::Client::connect(o.src_qmp);
  auto dst = lsm::qmp::Client::connect(o.dst_qmp);
  auto start = std::chrono::steady_clock::now();
  export_drives(dst, o);
  mirror_drives(src, o);
  double disk_s = seconds_since(start);
  migrate(src, dst, o);
  double paused_at = src.wait_event("STOP", 0ms).timestamp();
  finish_mirrors(src, o);
  double resumed_at = finish_destination(dst);
  std::printf("{\"downtime_ms\":%.0f,\"disk_s\":%.2f,\"ram_s\":%.2f}\n",
              (resumed_at - paused_at) * 1000, disk_s, seconds_since(start) - disk_s);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The bare QMP sequence of a migration with local disks (benchmark reference).",
               "lsm-bench-reference"};
  Options o;
  app.add_option("--src-qmp", o.src_qmp, "The source QEMU's QMP socket")->required();
  app.add_option("--dst-qmp", o.dst_qmp, "The destination QEMU's QMP socket, forwarded")->required();
  app.add_option("--nbd", o.nbd_local, "Forwarded socket of the destination's NBD server")->required();
  app.add_option("--dst-nbd", o.nbd_remote, "That socket's path on the destination")->required();
  app.add_option("--migrate", o.migrate_local, "Forwarded socket of the incoming migration")->required();
  app.add_option("--dst-migrate", o.migrate_remote, "That socket's path on the destination")->required();
  app.add_option("--drive", o.drives, "A drive id to mirror (repeatable)")->required();
  app.add_option("--downtime", o.downtime_ms, "downtime-limit in ms (default 300)");
  lsm::cli::on_run(&app, [&] { run(o); });
  return lsm::cli::run(app, argc, argv);
}

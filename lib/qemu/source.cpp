// The QEMU backend on the source host: the operator's QEMU, reached on its
// QMP socket in the run directory.
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include "core/log.hpp"
#include "core/subprocess.hpp"
#include "core/util.hpp"
#include "mirror/jobs.hpp"
#include "proto/frame.hpp"
#include "proto/messages.hpp"
#include "proto/progress.hpp"
#include "qemu/backend.hpp"
#include "qemu/cmdline.hpp"
#include "qemu/convergence.hpp"
#include "qemu/inventory.hpp"
#include "qemu/migration.hpp"
#include "qemu/pause_budget.hpp"
#include "qemu/ram_figures.hpp"
#include "qemu/tcg_dirty_hazard.hpp"
#include "vm/names.hpp"

namespace lsm::qemu {

using namespace std::chrono_literals;
using backend::VmRef;

namespace {

// QEMU's own default caps migration at 128 MiB/s; "unlimited" must say so.
constexpr std::uint64_t kUnlimited = 1ull << 40;

qmp::Client connect_source(const VmRef& vm) {
  std::string sock = vm::qmp_socket(vm.run_dir, vm.name);
  if (!path_exists(sock))
    throw UsageError("unknown domain '" + vm.name + "': no QMP socket " + sock +
                     " (start QEMU with -name " + vm.name + " -qmp unix:" + sock +
                     ",server=on,wait=off)");
  return qmp::Client::connect(sock);
}

// The guest's RAM in bytes (a query-memory-size-summary reply), hotplugged
// memory included: how much phase 3 has to move, which a progress view
// counts in its ETA from the start.
std::uint64_t guest_memory(const json::Value& sizes) {
  const json::Value* plugged = json::find(sizes, "plugged-memory");
  return json::u64_at(sizes, "base-memory", "query-memory-size-summary") +
         (plugged && plugged->IsUint64() ? plugged->GetUint64() : 0);
}

// The RAM phase's progress: the bytes sent of the guest's RAM, and what a
// view needs to tell the time left and the pause (docs/protocol.md 3.6).
void report(const RamFigures& ram, proto::Progress& progress) {
  progress.set("remaining", ram.remaining);
  progress.set("rounds", ram.rounds);
  progress.set("dirty_rate", ram.dirty_rate);
  if (ram.expected_downtime_ms) progress.set("expected_downtime_ms", *ram.expected_downtime_ms);
  progress.update(ram.transferred, ram.total);
}

// Bytes there are to read on fd (a pipe's, whichever end); 0 where the
// descriptor cannot tell.
std::uint64_t queued(int fd) {
  int n = 0;
  return ::ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? static_cast<std::uint64_t>(n) : 0;
}

// Bytes we wrote to fd that ssh has not taken yet: on our pipe to it, or
// on a socket to it (its send queue, not what there is to read).
std::uint64_t unsent(int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) return queued(fd);
  int n = 0;
  return ::ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0 ? static_cast<std::uint64_t>(n) : 0;
}

void set_downtime_limit(qmp::Client& qmp, std::uint64_t ms) {
  json::Document args(rapidjson::kObjectType);
  json::add(args, "downtime-limit", ms, args.GetAllocator());
  qmp.execute("migrate-set-parameters", &args);
}

bool guest_running(qmp::Client& qmp) {
  return json::bool_at(qmp.execute("query-status"), "running", "query-status");
}

class QemuDeviceModel : public backend::DeviceModel {
 public:
  explicit QemuDeviceModel(const VmRef& vm) : qmp_(connect_source(vm)) {}
  void with_qmp(const std::function<void(qmp::Client&)>& fn) override { fn(qmp_); }
  std::string node_of(qmp::Client& qmp, const std::string& key) override {
    return node_for_key(qmp, key);
  }
  bool guest_running() override { return qemu::guest_running(qmp_); }
  bool connection_is_ours() const override { return true; }

 private:
  qmp::Client qmp_;
};

// Copies QEMU's outgoing stream into frames on out_fd, on its own thread so
// QMP stays responsive while the bytes flow.
class Pump {
 public:
  Pump(int from, int out_fd) : writer_(out_fd, proto::kStreamOut), splice_(is_pipe(out_fd)) {
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
  static bool is_pipe(int fd) {
    struct stat st;
    return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
  }

  void run(int from) {
    try {
      if (splice_)
        splice_frames(from);
      else
        copy_frames(from);
    } catch (const std::exception& e) {
      error_ = lsm::describe(e);
      // QEMU must see its stream break too, or it would wait forever.
      ::shutdown(from, SHUT_RDWR);
    }
  }

  // Into a pipe (ssh's stdin, as lsm-migrate.sh runs it) the kernel moves
  // QEMU's bytes itself: copies in and out of this process would take CPU
  // from QEMU and ssh, which the stream's rate depends on. Each frame is
  // what QEMU has queued on the socket.
  void splice_frames(int from) {
    for (;;) {
      struct pollfd p = {from, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0) {
        if (errno == EINTR) continue;
        throw SystemError("waiting for QEMU's migration stream", errno);
      }
      std::size_t n = queued(from);
      if (n == 0) {
        // Readable with nothing queued: the end, or an error to be told.
        char c;
        ssize_t r = ::read(from, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw SystemError("reading QEMU's migration stream", errno);
        if (r == 0) break;
        writer_.data(std::string_view(&c, 1));
        bytes_ += 1;
        continue;
      }
      n = std::min(n, proto::kMaxFrame);
      writer_.splice_data(from, n);
      bytes_ += n;
    }
  }

  // Each read goes out as one frame, straight from the buffer it landed in.
  void copy_frames(int from) {
    std::string buf(1 << 20, '\0');
    for (;;) {
      ssize_t n = ::read(from, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw SystemError("reading QEMU's migration stream", errno);
      if (n == 0) break;
      writer_.data(std::string_view(buf.data(), static_cast<std::size_t>(n)));
      bytes_ += static_cast<std::size_t>(n);
    }
  }

  proto::FrameWriter writer_;
  bool splice_;
  std::thread thread_;
  std::atomic<std::uint64_t> bytes_{0};
  std::string error_;
};

class QemuRamSender : public backend::RamSender {
 public:
  QemuRamSender(const VmRef& vm, const backend::RamLimits& limits)
      : qmp_(connect_source(vm)),
        json_(limits.json),
        downtime_ms_(limits.downtime_ms),
        budget_(limits.downtime_ms),
        limit_ms_(budget_.first_aim_ms()),
        max_pause_ms_(limits.max_pause_ms) {
    enable_capabilities(qmp_, {"pause-before-switchover", "events"});
    json::Document args(rapidjson::kObjectType);
    auto& a = args.GetAllocator();
    json::add(args, "downtime-limit", limit_ms_, a);
    json::add(args, "max-bandwidth", limits.bandwidth ? limits.bandwidth : kUnlimited, a);
    qmp_.execute("migrate-set-parameters", &args);
  }

  backend::RamSent send(int out_fd, UniqueFd socket, const backend::DiskHooks& disks) override {
    if (socket) return send_on_socket(out_fd, std::move(socket), disks);
    auto [ours, theirs] = stream_pair();
    Pump pump(ours.get(), out_fd);
    Outlet outlet{.watch_fd = out_fd,
                  .bytes_sent = [&pump] { return pump.bytes(); },
                  .stream_error = [&pump] { return pump.error(); }};
    backend::RamSent sent;
    try {
      migrate_over_fd(qmp_, "migrate", std::move(theirs));
      sent = follow(outlet, disks);
    } catch (...) {
      cancel();
      ::shutdown(ours.get(), SHUT_RDWR);
      pump.join();
      throw;
    }
    pump.join();
    if (!pump.error().empty()) throw Error("RAM stream: " + pump.error());
    pump.writer().end();
    sent.ram_bytes = pump.bytes();
    return sent;
  }

 private:
  // Where the stream leaves this host, as follow() watches it.
  struct Outlet {
    int watch_fd;  // what ssh has not taken yet is queued here
    std::function<std::uint64_t()> bytes_sent;  // so far, or all once completed
    std::function<std::string()> stream_error;
    std::function<void(std::uint64_t transferred)> at_each_look = [](std::uint64_t) {};
  };

  // QEMU writes straight into the connection to the destination's socket
  // (ssh's forward): no copy through this process on either host. out_fd
  // carries only ram-sent lines, the destination's sign of life.
  backend::RamSent send_on_socket(int out_fd, UniqueFd socket, const backend::DiskHooks& disks) {
    Outlet outlet{.watch_fd = socket.get(),
                  // QEMU's own count: once completed, the whole stream.
                  .bytes_sent =
                      [this] {
                        auto ram = ram_figures(qmp_.execute("query-migrate"));
                        return ram ? ram->transferred : 0;
                      },
                  .stream_error = [] { return std::string(); },
                  .at_each_look = [out_fd](std::uint64_t bytes) {
                    proto::write_ram_sent(out_fd, bytes);
                  }};
    backend::RamSent sent;
    try {
      // Ours stays open, for what ssh has not taken yet (unsent()).
      UniqueFd for_qemu(::fcntl(socket.get(), F_DUPFD_CLOEXEC, 0));
      if (!for_qemu) throw SystemError("duplicating the RAM socket", errno);
      migrate_over_fd(qmp_, "migrate", std::move(for_qemu));
      sent = follow(outlet, disks);
    } catch (...) {
      cancel();
      ::shutdown(socket.get(), SHUT_RDWR);
      throw;
    }
    return sent;
  }

  void cancel() {
    try {
      qmp_.execute("migrate_cancel");
    } catch (const std::exception& e) {
      log::error("migrate_cancel after failure: " + lsm::describe(e));
    }
  }

  // QEMU's share of the pause, again at each look while the guest runs: the
  // link rate and what is ahead of QEMU change as the migration goes, and
  // the aim rises towards the budget (PauseBudget::next_aim_ms).
  void plan_pause(ConvergenceWatch& convergence, const PauseFigures& f) {
    if (auto msg = budget_.over(f)) log::notice(*msg);
    std::uint64_t budget = budget_.limit_ms(f);
    // Convergence is judged against what QEMU may take in the end.
    convergence.set_limit(budget);
    std::uint64_t limit = budget_.next_aim_ms(f);
    std::uint64_t step = std::max<std::uint64_t>(5, downtime_ms_ / 20);
    if (limit + step > limit_ms_ && limit < limit_ms_ + step) return;
    set_downtime_limit(qmp_, limit);
    log::debug("QEMU may take " + std::to_string(limit) + " ms now, of its " +
               std::to_string(budget) + " ms of --downtime " + std::to_string(downtime_ms_) +
               ": " + std::to_string(f.queued) + " bytes in our pipe (then ssh's window) and " +
               std::to_string(f.disk_behind) + " the mirrors are behind, at " +
               std::to_string(f.link_rate) + " bytes/s");
    limit_ms_ = limit;
  }

  // Follows the migration to its end, finishing the disks at the switchover.
  backend::RamSent follow(const Outlet& outlet, const backend::DiskHooks& disks) {
    proto::Progress progress("ram", json_);
    ConvergenceWatch convergence(downtime_ms_);
    backend::RamSent sent;
    std::optional<Deadline> pause_ends;
    auto note_stop = [&] {
      if (auto stop = qmp_.next_event("STOP", 0ms)) {
        sent.paused_at = stop->timestamp();
        pause_ends = Deadline::in(std::chrono::milliseconds(max_pause_ms_));
      }
    };
    for (;;) {
      note_stop();
      if (pause_ends && pause_ends->expired())
        throw TimeoutError("the guest has been paused for " + std::to_string(max_pause_ms_) +
                           " ms without switching over (--max-pause)");
      auto e = qmp_.next_event("MIGRATION", 500ms);
      if (!e) {
        std::uint64_t behind = 0;
        if (disks.check && !pause_ends) behind = disks.check(qmp_);
        auto info = qmp_.execute("query-migrate");
        auto ram = ram_figures(info);
        if (ram && !pause_ends)
          plan_pause(convergence, {unsent(outlet.watch_fd), behind, ram->link_rate});
        if (auto stuck = convergence.feed(info)) log::notice(*stuck);
        if (ram) {
          report(*ram, progress);
          outlet.at_each_look(ram->transferred);
        }
        continue;
      }
      std::string st = migration_status(*e);
      log::debug("migration status " + st);
      if (st == "pre-switchover") {
        // The guest is paused and no more guest writes can happen: this is
        // the disks' consistent point, before any device state is sent.
        note_stop();
        if (!pause_ends) pause_ends = Deadline::in(std::chrono::milliseconds(max_pause_ms_));
        if (disks.finish) sent.disk_bytes = disks.finish(qmp_);
        json::Document args(rapidjson::kObjectType);
        json::add(args, "state", "pre-switchover", args.GetAllocator());
        qmp_.execute("migrate-continue", &args);
      } else if (st == "completed") {
        if (disks.release) disks.release(qmp_);
        break;
      } else if (st == "failed" || st == "cancelled") {
        std::string stream = outlet.stream_error();
        throw Error("RAM migration " + st + ": " + migration_error(qmp_) +
                    (stream.empty() ? "" : " (" + stream + ")"));
      }
    }
    note_stop();
    sent.ram_bytes = outlet.bytes_sent();
    progress.set("remaining", 0);
    progress.finish(sent.ram_bytes, sent.ram_bytes, "switched over");
    return sent;
  }

  qmp::Client qmp_;
  bool json_;
  std::uint64_t downtime_ms_;
  PauseBudget budget_;
  std::uint64_t limit_ms_;  // QEMU's downtime-limit as last set
  std::uint64_t max_pause_ms_;
};

bool migration_active(qmp::Client& qmp) {
  std::string st = migration_status(qmp);
  return st != "completed" && st != "failed" && st != "cancelled" && st != "none";
}

backend::Description describe(const VmRef& vm, const backend::DescribeRequest& request) {
  if (!request.config_file.empty())
    throw UsageError("-C " + request.config_file +
                     ": a configuration file is for Xen domains (xl migrate -C); a QEMU VM "
                     "is described by its own command line");
  qmp::Client qmp = connect_source(vm);
  backend::Description d;
  d.disks = list_disks(qmp, request.shared_disks);
  bool running = guest_running(qmp);
  auto& a = d.config.GetAllocator();
  json::Value args(rapidjson::kArrayType);
  for (const auto& s : read_cmdline(qmp.peer_pid())) args.PushBack(json::str(s, a), a);
  json::add(d.config, "argv", std::move(args), a);
  json::add(d.config, "qmp", vm::qmp_socket(vm.run_dir, vm.name), a);
  json::add(d.config, "running", running, a);
  auto sizes = qmp.execute("query-memory-size-summary");
  json::add(d.config, "memory", guest_memory(sizes), a);
  json::add(d.config, "qemu_version", qmp.qemu_version(), a);
  TcgFacts tcg{.qemu_version = qmp.qemu_version(),
               .kvm = json::bool_at(qmp.execute("query-kvm"), "enabled", "query-kvm"),
               .ram_bytes = json::u64_at(sizes, "base-memory", "query-memory-size-summary")};
  if (auto w = tcg_dirty_hazard(vm.name, tcg)) d.warnings.push_back(*w);
  return d;
}

void quit(const VmRef& vm) {
  std::optional<qmp::Client> conn;
  try {
    conn.emplace(qmp::Client::connect(vm::qmp_socket(vm.run_dir, vm.name)));
  } catch (const SystemError& e) {
    // Asked again after it quit (settling an interrupted migration).
    if (e.code() != ENOENT && e.code() != ECONNREFUSED) throw;
    log::info("the source QEMU of " + vm.name + " is gone already");
    return;
  }
  qmp::Client& qmp = *conn;
  std::string st = migration_status(qmp);
  if (st != "completed")
    throw Error("source migration of '" + vm.name + "' is not complete (status " + st +
                "); refusing to quit the source QEMU");
  if (guest_running(qmp))
    throw Error("source guest '" + vm.name + "' is running; refusing to quit it");
  pid_t pid = qmp.peer_pid();
  qmp.execute("quit");
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("source QEMU (pid " + std::to_string(pid) + ") did not exit within 30 s of quit");
    std::this_thread::sleep_for(50ms);
  }
}

void rollback(const VmRef& vm,
                                  const std::optional<vm::SourceState>& recorded) {
  qmp::Client qmp = connect_source(vm);
  if (migration_active(qmp)) {
    qmp.execute("migrate_cancel");
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (migration_active(qmp)) {
      if (std::chrono::steady_clock::now() > deadline)
        throw Error("migration did not stop within 30 s of migrate_cancel");
      std::this_thread::sleep_for(50ms);
    }
  }
  mirror::abort_all(qmp);
  // Without a record phase 2 never started, so lsm did not pause the guest.
  if (!guest_running(qmp) && recorded && recorded->was_running) {
    qmp.execute("cont");
    log::notice("guest " + vm.name + " resumed on the source");
  }
}

}  // namespace

backend::SourceOps source_ops() {
  return {.describe = describe, .device_model = backend::construct<QemuDeviceModel>,
          .ram_sender = backend::construct<QemuRamSender>, .quit = quit, .rollback = rollback};
}

}  // namespace lsm::qemu

#include "xen/save.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <exception>
#include <fstream>
#include <sstream>
#include <thread>

extern "C" {
#include <xenctrl.h>
#include <xenguest.h>
}

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "core/util.hpp"
#include "proto/frame.hpp"
#include "xen/dm_qmp.hpp"
#include "xen/libxl_stream.hpp"
#include "xen/suspend.hpp"
#include "xen/xenstore.hpp"

namespace lsm::xen {

namespace {

constexpr std::uint64_t kPageSize = 4096;
// A guest dirtying memory faster than the link never meets its downtime
// target: once its dirty set has not shrunk for this many rounds, more
// rounds do not help and the copy stops anyway; and never more rounds than
// the second constant.
constexpr unsigned kStalledIterations = 5;
constexpr unsigned kMaxIterations = 30;

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct SaveContext {
  Libxl& x;
  const DomainInfo& d;
  const SaveOptions& o;
  std::string device_state_file;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  SaveResult result{};
  std::exception_ptr failure{};
  std::atomic<std::uint64_t> copied{0};  // libxc stream bytes that went out
  std::atomic<std::uint64_t> sent{0};    // what carried them, zeros elided
  long fewest_dirty = -1;  // the smallest dirty set so far, and its round
  unsigned fewest_round = 0;
  double round_start_s = 0;  // when the round that just ended began
  std::uint64_t round_start_sent = 0;
};

// --downtime, instead of libxc's fixed "fewer than 50 dirty pages or 5
// rounds": stop when what is left goes through in the allowed pause at the
// rate the last round really went out.
int precopy_policy(struct precopy_stats stats, void* data) {
  auto* c = static_cast<SaveContext*>(data);
  if (c->o.check_disks) {
    try {
      DeviceModelQmp dm(c->d.domid, c->d.uuid);
      c->o.check_disks(dm.client());
    } catch (...) {
      c->failure = std::current_exception();
      return XGS_POLICY_ABORT;
    }
  }
  if (stats.dirty_count < 0) return XGS_POLICY_CONTINUE_PRECOPY;
  // The rate of the round that just ended, on the channel: the first pass
  // is mostly zero pages, which cost time to read but no bytes to send,
  // while dirty pages are rarely zero and cost what they weigh.
  double now_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - c->start).count();
  std::uint64_t sent = c->sent;
  double rate = now_s > c->round_start_s ? (sent - c->round_start_sent) / (now_s - c->round_start_s)
                                         : 0;
  c->round_start_s = now_s;
  c->round_start_sent = sent;
  if (stats.dirty_count == 0) return XGS_POLICY_STOP_AND_COPY;
  double left_ms = rate > 0 ? stats.dirty_count * kPageSize / rate * 1000 : 1e9;
  // Before the first pass has gone out there is no rate to tell by.
  if (stats.iteration == 0) {
    log::info("RAM round 0: all " + std::to_string(stats.dirty_count) + " pages");
    return XGS_POLICY_CONTINUE_PRECOPY;
  }
  log::info("RAM round " + std::to_string(stats.iteration) + ": " +
            std::to_string(stats.dirty_count) + " dirty pages, ~" +
            std::to_string(static_cast<long>(left_ms)) + " ms to copy them");
  if (left_ms <= static_cast<double>(c->o.downtime_ms)) return XGS_POLICY_STOP_AND_COPY;
  if (c->fewest_dirty < 0 || stats.dirty_count < c->fewest_dirty * 9 / 10) {
    c->fewest_dirty = stats.dirty_count;
    c->fewest_round = stats.iteration;
  }
  if (stats.iteration - c->fewest_round >= kStalledIterations ||
      stats.iteration >= kMaxIterations) {
    log::notice("the guest dirties memory faster than it can be copied; stopping it for the "
                "rest (about " + std::to_string(static_cast<long>(left_ms)) +
                " ms, above --downtime)");
    return XGS_POLICY_STOP_AND_COPY;
  }
  return XGS_POLICY_CONTINUE_PRECOPY;
}

void save_device_state(qmp::Client& qmp, const std::string& file) {
  // Created here so that QEMU's copy of the device state is ours alone.
  UniqueFd fd = create_private_file(file);
  json::Document args(rapidjson::kObjectType);
  json::add(args, "filename", file, args.GetAllocator());
  // Not live: the images stay active here, so a rollback just continues.
  json::add(args, "live", false, args.GetAllocator());
  with_context("saving the device model's state", [&] {
    qmp.execute("xen-save-devices-state", &args);
  });
}

// Xen calls this once it wants the guest stopped for the last round.
int on_suspend(void* data) {
  auto* c = static_cast<SaveContext*>(data);
  try {
    c->result.suspended_at = epoch_now();
    suspend_guest(c->x, c->d);
    bool hvm = c->d.type == DomainType::kHvm;
    if (hvm || c->o.finish_disks) {
      DeviceModelQmp dm(c->d.domid, c->d.uuid);
      if (hvm) with_context("stopping the device model", [&] { dm.client().execute("stop"); });
      if (c->o.finish_disks) c->result.disk_bytes = c->o.finish_disks(dm.client());
      if (hvm) save_device_state(dm.client(), c->device_state_file);
    }
    return 1;
  } catch (...) {
    c->failure = std::current_exception();
    return 0;
  }
}

// QEMU's writes into guest memory (emulated DMA) must be tracked by Xen's
// dirty log too.
int on_switch_qemu_logdirty(std::uint32_t, unsigned enable, void* data) {
  auto* c = static_cast<SaveContext*>(data);
  if (c->d.type != DomainType::kHvm) return 0;
  try {
    DeviceModelQmp dm(c->d.domid, c->d.uuid);
    json::Document args(rapidjson::kObjectType);
    json::add(args, "enable", enable != 0, args.GetAllocator());
    dm.client().execute("xen-set-global-dirty-log", &args);
    return 0;
  } catch (...) {
    c->failure = std::current_exception();
    return -1;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SystemError("reading " + path, errno);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

SaveResult save_domain(Libxl& x, const DomainInfo& d, int out_fd, const SaveOptions& o) {
  SaveContext c{x, d, o, "/var/lib/xen/lsm-save." + std::to_string(d.domid)};
  // Framed, so that runs of zeros go as ZERO frames: libxc sends every page
  // of the guest, and a page it never touched is zero.
  proto::FrameWriter frames(out_fd, "stdout (the stream to the destination)");
  LibxlStreamWriter w([&](std::string_view s) { frames.data(s); });
  w.header();
  w.libxc_context();

  save_callbacks cb{};
  cb.suspend = on_suspend;
  cb.precopy_policy = precopy_policy;
  cb.switch_qemu_logdirty = on_switch_qemu_logdirty;
  cb.data = &c;
  // xc_domain_save writes to a pipe that a thread copies on, so the bytes
  // that really went out are counted.
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw SystemError("pipe", errno);
  UniqueFd pipe_r(p[0]), pipe_w(p[1]);
  std::string copy_error;
  std::thread copier([&] {
    try {
      FdReader in(pipe_r.get(), "libxc's stream");
      // libxc has no rate limit of its own: --bandwidth is kept here.
      std::size_t chunk = o.bandwidth ? std::clamp<std::size_t>(o.bandwidth / 10, 4096, 1 << 20)
                                      : 1 << 20;
      for (std::string s; !(s = in.read_some(chunk, Deadline::never())).empty();) {
        frames.sparse(s);
        c.copied += s.size();
        c.sent = frames.wire_bytes();
        if (o.bandwidth)
          std::this_thread::sleep_until(
              c.start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(double(c.sent) / o.bandwidth)));
      }
    } catch (const std::exception& e) {
      copy_error = describe(e);
      // libxc must see its stream break too, or it would block forever.
      pipe_r.reset();
    }
  });
  int rc = xc_domain_save(x.xc(), pipe_w.get(), d.domid, XCFLAGS_LIVE, &cb, XC_STREAM_PLAIN, -1);
  int err = errno;
  pipe_w.reset();
  copier.join();
  c.result.ram_bytes = c.copied;
  if (!copy_error.empty()) throw Error("sending the RAM stream: " + copy_error);
  if (c.failure) {
    ::unlink(c.device_state_file.c_str());
    std::rethrow_exception(c.failure);
  }
  if (rc) throw SystemError("xc_domain_save of domain " + d.name + " failed", err);

  if (d.type == DomainType::kHvm) {
    std::string blob = read_file(c.device_state_file);
    ::unlink(c.device_state_file.c_str());
    Xenstore xs;
    XenstorePairs physmap;
    for (auto& [k, v] : xs.subtree("/local/domain/0/device-model/" + std::to_string(d.domid) +
                                   "/physmap"))
      physmap.emplace_back("physmap/" + k, v);
    if (!physmap.empty()) w.emulator_xenstore_data(kEmulatorQemuUpstream, 0, physmap);
    w.emulator_context(kEmulatorQemuUpstream, 0, blob);
  }
  w.end();
  frames.end();
  c.result.wire_bytes = frames.wire_bytes();
  return c.result;
}

}  // namespace lsm::xen

#include "xen/restore.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "xen/domain.hpp"

namespace lsm::xen {

namespace {

// libxl's INVALID_DOMID, as the unsigned domid it is.
constexpr std::uint32_t kNoDomain = ~0u;

class Config {
 public:
  Config(Libxl& x, const RestoreOptions& o) {
    libxl_domain_config_init(&cfg_);
    check(libxl_domain_config_from_json(x.ctx(), &cfg_, o.config_json.c_str()),
          "parsing the source's domain configuration");
    replace(cfg_.c_info.name, o.name);
    for (int i = 0; i < cfg_.num_disks; ++i) {
      libxl_device_disk& d = cfg_.disks[i];
      if (!d.vdev) continue;
      auto it = o.disk_paths.find(d.vdev);
      if (it != o.disk_paths.end()) replace(d.pdev_path, it->second);
    }
  }
  ~Config() { libxl_domain_config_dispose(&cfg_); }
  libxl_domain_config* get() { return &cfg_; }

 private:
  static void replace(char*& field, const std::string& value) {
    std::free(field);
    field = strdup(value.c_str());
    if (!field) throw std::bad_alloc();
  }
  libxl_domain_config cfg_;
};

}  // namespace

RestoreResult restore_domain(Libxl& x, const RestoreOptions& o, ByteReader& in) {
  Config cfg(x, o);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw SystemError("pipe", errno);
  UniqueFd libxl_end(p[0]), relay_end(p[1]);

  // The relay checks the stream as it passes and holds END back until
  // before_end has run; a bad stream closes the pipe, so libxl fails too.
  RestoreResult result;
  std::exception_ptr relay_failure;
  std::thread relay([&] {
    try {
      result.stream = relay_libxl_stream(
          in, [&](std::string_view s) { write_all(relay_end.get(), s, "libxl's restore pipe"); },
          o.before_end);
    } catch (...) {
      relay_failure = std::current_exception();
    }
    relay_end.reset();
  });

  libxl_domain_restore_params params;
  libxl_domain_restore_params_init(&params);
  params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
  params.stream_version = 2;
  std::uint32_t domid = kNoDomain;
  int rc = libxl_domain_create_restore(x.ctx(), cfg.get(), &domid, libxl_end.get(), -1, &params,
                                       nullptr, nullptr);
  libxl_domain_restore_params_dispose(&params);
  // Whatever libxl did not read: a relay blocked on the pipe must fail now.
  libxl_end.reset();
  relay.join();

  if (relay_failure || rc) {
    if (domid != kNoDomain && run_state(x, domid)) {
      try {
        destroy_domain(x, domid);
      } catch (const std::exception& e) {
        log::error("cleaning up the half-restored domain: " + describe(e));
      }
    }
    if (relay_failure) std::rethrow_exception(relay_failure);
    check(rc, "libxl could not restore the domain from the stream");
  }
  result.domid = domid;
  log::info("restored " + o.name + " as domain " + std::to_string(domid) + " (paused)");
  return result;
}

}  // namespace lsm::xen

// The source half of a Xen live migration, without libxl's save path: lsm
// writes the libxl v2 stream itself around xc_domain_save, so that between
// the guest's suspend and the saving of QEMU's device state it can finish
// the disk mirrors (a mirror still running then breaks Xen's QEMU).
#pragma once

#include <cstdint>
#include <functional>

#include "qmp/client.hpp"
#include "xen/domain.hpp"
#include "xen/libxl_ctx.hpp"

namespace lsm::xen {

struct SaveOptions {
  std::uint64_t downtime_ms = 300;
  std::uint64_t bandwidth = 0;  // bytes/s for the stream; 0: unlimited
  // Runs with the guest suspended (and an HVM device model stopped) on a
  // locked QMP connection to the device model; returns the disk bytes it
  // copied. Empty when the domain has no mirrored disk.
  std::function<std::uint64_t(qmp::Client&)> finish_disks;
  // Runs between the live rounds, on a locked QMP connection to the device
  // model; an exception stops the migration before the guest is suspended.
  std::function<void(qmp::Client&)> check_disks;
};

struct SaveResult {
  std::uint64_t ram_bytes = 0;   // the libxl stream's bytes
  std::uint64_t wire_bytes = 0;  // the frames that carried them
  std::uint64_t disk_bytes = 0;
  double suspended_at = 0;  // seconds since the epoch
};

// Streams the running domain to out_fd as one libxl v2 migration stream,
// framed (proto/frame.hpp).
// On success the domain is left suspended; on failure it may be too, and
// resume_domain() brings it back.
SaveResult save_domain(Libxl& x, const DomainInfo& d, int out_fd, const SaveOptions& o);

}  // namespace lsm::xen

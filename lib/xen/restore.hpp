// The destination half: libxl builds the domain from the stream relayed
// to it (as xl migrate-receive does), paused and under a temporary name.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/fd_io.hpp"
#include "xen/libxl_ctx.hpp"
#include "xen/libxl_stream.hpp"

namespace lsm::xen {

struct RestoreOptions {
  std::string config_json;  // the source's libxl_domain_config
  std::string name;         // the name to create it under
  std::map<std::string, std::string> disk_paths;  // vdev -> image on this host
  // Runs after everything but the stream's END record reached libxl, which
  // starts the device model (and opens the disks) only after END.
  std::function<void()> before_end;
};

struct RestoreResult {
  std::uint32_t domid = 0;
  LibxlStreamSummary stream;
};

// Reads one libxl v2 stream from in, and nothing after it. On failure the
// half-built domain is destroyed before this throws.
RestoreResult restore_domain(Libxl& x, const RestoreOptions& o, ByteReader& in);

}  // namespace lsm::xen

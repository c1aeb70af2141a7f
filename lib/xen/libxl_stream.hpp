// The libxl migration stream, version 2 (xen.git docs/specs/libxl-
// migration-stream.pandoc): written by lsm on the source around
// xc_domain_save's own stream, and relayed on the destination into
// libxl_domain_create_restore, with a hook before the END record so that
// nothing else holds the disk images when libxl starts QEMU on them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fd_io.hpp"
#include "xen/libxc_stream.hpp"

namespace lsm::xen {

inline constexpr std::uint64_t kLibxlIdent = 0x4c6962786c466d74ull;  // "LibxlFmt"
inline constexpr std::uint32_t kLibxlVersion = 2;

enum class LibxlRecord : std::uint32_t {
  kEnd = 0,
  kLibxcContext = 1,
  kEmulatorXenstoreData = 2,
  kEmulatorContext = 3,
  kCheckpointEnd = 4,
  kCheckpointState = 5,
};

inline constexpr std::uint32_t kEmulatorQemuUpstream = 2;

using Sink = std::function<void(std::string_view)>;
using XenstorePairs = std::vector<std::pair<std::string, std::string>>;

class LibxlStreamWriter {
 public:
  explicit LibxlStreamWriter(Sink sink) : sink_(std::move(sink)) {}
  void header();
  // A marker only: xc_domain_save's stream must follow it directly.
  void libxc_context();
  void emulator_xenstore_data(std::uint32_t emulator, std::uint32_t index,
                              const XenstorePairs& pairs);
  void emulator_context(std::uint32_t emulator, std::uint32_t index, std::string_view blob);
  void end();

 private:
  void record(LibxlRecord type, std::string_view body);
  Sink sink_;
};

struct LibxlStreamSummary {
  LibxcSummary libxc;
  XenstorePairs xenstore;
  std::uint64_t emulator_context_bytes = 0;
};

// Copies one libxl stream from in to sink unchanged, checking it against
// the spec as it goes. before_end runs after everything but the END record
// has been passed on, and before END is. Throws naming what is wrong.
LibxlStreamSummary relay_libxl_stream(ByteReader& in, const Sink& sink,
                                      const std::function<void()>& before_end);

}  // namespace lsm::xen

// The libxc domain image format (xen.git docs/specs/libxc-migration-
// stream.pandoc), as far as lsm needs it: to walk a stream that
// xc_domain_save wrote, record by record, up to its END, without knowing
// its length in advance (a libxl LIBXC_CONTEXT record has no length).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/fd_io.hpp"

namespace lsm::xen {

inline constexpr std::uint64_t kLibxcMarker = 0xffffffffffffffffull;
inline constexpr std::uint32_t kLibxcId = 0x58454e46;  // "XENF"

struct LibxcSummary {
  std::uint32_t version = 0;
  std::uint32_t domain_type = 0;  // 1 x86 PV, 2 x86 HVM, 3 x86 PVH
  std::uint32_t xen_major = 0, xen_minor = 0;
  std::uint64_t records = 0;
  std::uint64_t page_records = 0;
};

// Exactly n bytes of a stream being parsed from in: if in ends first, an
// Error saying ended(); a timeout, or broken framing under the stream,
// keeps its own error.
std::string read_within_stream(ByteReader& in, std::size_t n,
                               const std::function<std::string()>& ended);

// Reads one libxc stream from in, through its END record, passing every
// byte on to sink unchanged. Throws naming the offset and what is wrong for
// a stream that is not libxc's, is big-endian, or ends early.
LibxcSummary relay_libxc_stream(ByteReader& in,
                                const std::function<void(std::string_view)>& sink);

}  // namespace lsm::xen

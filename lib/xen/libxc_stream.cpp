#include "xen/libxc_stream.hpp"

#include "proto/message.hpp"
#include "xen/byte_order.hpp"

namespace lsm::xen {

namespace {

constexpr std::uint32_t kRecordEnd = 0;
constexpr std::uint32_t kRecordPageData = 1;
// Above any record xc_domain_save writes (a PAGE_DATA batch of 1024 pages
// is 4 MiB + 8 KiB): a larger length means a corrupt stream.
constexpr std::uint64_t kMaxRecord = 64ull << 20;

std::string take(ByteReader& in, std::size_t n, const char* what, std::uint64_t at) {
  return read_within_stream(in, n, [&] {
    return std::string("libxc stream ended inside the ") + what + " at byte " + std::to_string(at);
  });
}

}  // namespace

std::string read_within_stream(ByteReader& in, std::size_t n,
                               const std::function<std::string()>& ended) {
  try {
    return in.read_exact(n, Deadline::never());
  } catch (const TimeoutError&) {
    throw;
  } catch (const proto::ProtocolError&) {
    throw;  // the framing around it is broken, which says more
  } catch (const Error&) {
    throw Error(ended());
  }
}

LibxcSummary relay_libxc_stream(ByteReader& in,
                                const std::function<void(std::string_view)>& sink) {
  LibxcSummary s;
  std::uint64_t at = 0;
  std::string ihdr = take(in, 24, "image header", at);
  if (get_be(ihdr, 0, 8) != kLibxcMarker || get_be(ihdr, 8, 4) != kLibxcId)
    throw Error("not a libxc stream (no XENF image header)");
  s.version = static_cast<std::uint32_t>(get_be(ihdr, 12, 4));
  if (s.version < 2 || s.version > 3)
    throw Error("libxc stream version " + std::to_string(s.version) + " is not supported");
  if (get_be(ihdr, 16, 2) & 1) throw Error("big-endian libxc streams are not supported");
  sink(ihdr);
  at += ihdr.size();
  std::string dhdr = take(in, 16, "domain header", at);
  s.domain_type = static_cast<std::uint32_t>(get_le(dhdr, 0, 4));
  s.xen_major = static_cast<std::uint32_t>(get_le(dhdr, 8, 4));
  s.xen_minor = static_cast<std::uint32_t>(get_le(dhdr, 12, 4));
  sink(dhdr);
  at += dhdr.size();
  for (;;) {
    std::string rh = take(in, 8, "record header", at);
    auto type = static_cast<std::uint32_t>(get_le(rh, 0, 4));
    std::uint64_t len = get_le(rh, 4, 4);
    if (len > kMaxRecord)
      throw Error("libxc record of type " + std::to_string(type) + " at byte " +
                  std::to_string(at) + " claims " + std::to_string(len) + " bytes");
    sink(rh);
    at += rh.size();
    std::string body = take(in, padded(len), "record body", at);
    sink(body);
    at += body.size();
    ++s.records;
    if (type == kRecordPageData) ++s.page_records;
    if (type == kRecordEnd) {
      if (len != 0) throw Error("libxc END record with a body");
      return s;
    }
  }
}

}  // namespace lsm::xen

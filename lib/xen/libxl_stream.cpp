#include "xen/libxl_stream.hpp"

#include "xen/byte_order.hpp"

namespace lsm::xen {

namespace {

constexpr std::uint64_t kMaxRecord = 256ull << 20;
constexpr std::uint32_t kOptionalBit = 0x80000000u;

std::string emulator_header(std::uint32_t emulator, std::uint32_t index) {
  std::string h;
  put_le(h, emulator, 4);
  put_le(h, index, 4);
  return h;
}

std::string take(ByteReader& in, std::size_t n, const std::string& what) {
  return read_within_stream(in, n, [&] { return "libxl stream ended inside " + what; });
}

XenstorePairs parse_xenstore(std::string_view data) {
  XenstorePairs pairs;
  std::size_t pos = 0;
  while (pos < data.size()) {
    auto key_end = data.find('\0', pos);
    if (key_end == std::string_view::npos) throw Error("xenstore data: key without NUL");
    auto val_end = data.find('\0', key_end + 1);
    if (val_end == std::string_view::npos) throw Error("xenstore data: value without NUL");
    pairs.emplace_back(std::string(data.substr(pos, key_end - pos)),
                       std::string(data.substr(key_end + 1, val_end - key_end - 1)));
    pos = val_end + 1;
  }
  return pairs;
}

}  // namespace

void LibxlStreamWriter::record(LibxlRecord type, std::string_view body) {
  std::string h;
  put_le(h, static_cast<std::uint32_t>(type), 4);
  put_le(h, body.size(), 4);
  sink_(h);
  if (!body.empty()) sink_(body);
  std::size_t pad = padded(body.size()) - body.size();
  if (pad) sink_(std::string(pad, '\0'));
}

void LibxlStreamWriter::header() {
  std::string h;
  put_be(h, kLibxlIdent, 8);
  put_be(h, kLibxlVersion, 4);
  put_be(h, 0, 4);  // options: little-endian, not legacy
  sink_(h);
}

void LibxlStreamWriter::libxc_context() { record(LibxlRecord::kLibxcContext, {}); }

void LibxlStreamWriter::emulator_xenstore_data(std::uint32_t emulator, std::uint32_t index,
                                               const XenstorePairs& pairs) {
  std::string body = emulator_header(emulator, index);
  for (const auto& [k, v] : pairs) {
    body += k;
    body.push_back('\0');
    body += v;
    body.push_back('\0');
  }
  record(LibxlRecord::kEmulatorXenstoreData, body);
}

void LibxlStreamWriter::emulator_context(std::uint32_t emulator, std::uint32_t index,
                                         std::string_view blob) {
  record(LibxlRecord::kEmulatorContext, emulator_header(emulator, index) + std::string(blob));
}

void LibxlStreamWriter::end() { record(LibxlRecord::kEnd, {}); }

LibxlStreamSummary relay_libxl_stream(ByteReader& in, const Sink& sink,
                                      const std::function<void()>& before_end) {
  LibxlStreamSummary s;
  std::string h = take(in, 16, "its header");
  if (get_be(h, 0, 8) != kLibxlIdent) throw Error("not a libxl stream (no LibxlFmt header)");
  auto version = get_be(h, 8, 4);
  if (version != kLibxlVersion)
    throw Error("libxl stream version " + std::to_string(version) + " is not supported");
  auto options = get_be(h, 12, 4);
  if (options & 1) throw Error("big-endian libxl streams are not supported");
  if (options & 2) throw Error("legacy-converted libxl streams are not supported");
  sink(h);
  bool libxc_seen = false;
  for (;;) {
    std::string rh = take(in, 8, "a record header");
    auto type = static_cast<std::uint32_t>(get_le(rh, 0, 4));
    std::uint64_t len = get_le(rh, 4, 4);
    std::string name = "record type " + std::to_string(type);
    if (len > kMaxRecord) throw Error(name + " claims " + std::to_string(len) + " bytes");
    std::string body = take(in, padded(len), name);
    std::string_view data(body.data(), len);
    switch (static_cast<LibxlRecord>(type)) {
      case LibxlRecord::kEnd:
        if (len != 0) throw Error("libxl END record with a body");
        if (!libxc_seen) throw Error("libxl stream ended without a LIBXC_CONTEXT record");
        before_end();
        sink(rh);
        return s;
      case LibxlRecord::kLibxcContext:
        if (len != 0) throw Error("LIBXC_CONTEXT record with a body");
        if (libxc_seen) throw Error("a second LIBXC_CONTEXT record");
        libxc_seen = true;
        sink(rh);
        s.libxc = relay_libxc_stream(in, sink);
        continue;
      case LibxlRecord::kEmulatorXenstoreData: {
        if (len < 8) throw Error("EMULATOR_XENSTORE_DATA record too short");
        auto pairs = parse_xenstore(data.substr(8));
        s.xenstore.insert(s.xenstore.end(), pairs.begin(), pairs.end());
        break;
      }
      case LibxlRecord::kEmulatorContext:
        if (len < 8) throw Error("EMULATOR_CONTEXT record too short");
        s.emulator_context_bytes += len - 8;
        break;
      case LibxlRecord::kCheckpointEnd:
      case LibxlRecord::kCheckpointState:
        throw Error("checkpointed (Remus/COLO) libxl streams are not supported");
      default:
        // Optional records may be passed on without being understood.
        if (!(type & kOptionalBit)) throw Error("unknown mandatory libxl " + name);
    }
    sink(rh);
    sink(body);
  }
}

}  // namespace lsm::xen

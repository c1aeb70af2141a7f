#include "proto/frame.hpp"

namespace lsm::proto {

namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_be(std::string_view in, std::size_t off, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[off + i]);
  return v;
}

std::string header(std::uint32_t kind, std::uint64_t len) {
  std::string h;
  put_be(h, kFrameMagic, 4);
  put_be(h, kind, 4);
  put_be(h, len, 8);
  return h;
}

}  // namespace

void FrameWriter::data(std::string_view bytes) {
  while (!bytes.empty()) {
    std::string_view part = bytes.substr(0, kMaxFrame);
    write_all(fd_, header(kFrameData, part.size()), what_);
    write_all(fd_, part, what_);
    total_ += part.size();
    bytes.remove_prefix(part.size());
  }
}

void FrameWriter::end() { write_all(fd_, header(kFrameEnd, total_), what_); }

std::optional<std::string> FrameReader::next(Deadline deadline) {
  std::string h;
  try {
    h = in_.read_exact(16, deadline);
  } catch (const TimeoutError&) {
    throw;
  } catch (const Error&) {
    throw ProtocolError(what_ + ": stream truncated after " +
                        std::to_string(total_) + " bytes (no end frame)");
  }
  if (get_be(h, 0, 4) != kFrameMagic)
    throw ProtocolError(what_ + ": garbage where a frame header was expected, " +
                        "after " + std::to_string(total_) + " bytes");
  auto kind = static_cast<std::uint32_t>(get_be(h, 4, 4));
  std::uint64_t len = get_be(h, 8, 8);
  if (kind == kFrameEnd) {
    if (len != total_)
      throw ProtocolError(what_ + ": end frame says " + std::to_string(len) +
                          " bytes but " + std::to_string(total_) + " arrived");
    return std::nullopt;
  }
  if (kind != kFrameData)
    throw ProtocolError(what_ + ": unknown frame kind " + std::to_string(kind));
  if (len == 0 || len > kMaxFrame)
    throw ProtocolError(what_ + ": frame length " + std::to_string(len) +
                        " out of range");
  std::string payload;
  try {
    payload = in_.read_exact(len, deadline);
  } catch (const TimeoutError&) {
    throw;
  } catch (const Error&) {
    throw ProtocolError(what_ + ": stream truncated inside a frame after " +
                        std::to_string(total_) + " bytes");
  }
  total_ += len;
  return payload;
}

}  // namespace lsm::proto

// Framing for bulk bytes (RAM and device state) on a stream between tools.
// Each frame is a 16-byte header, "LSMF", kind (u32) and length (u64), all
// big-endian, then the payload for DATA frames. An END frame carries the
// total payload byte count instead, so a stream cut anywhere, or one that
// lost bytes, is detected rather than fed to QEMU as if complete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/fd_io.hpp"
#include "proto/message.hpp"

namespace lsm::proto {

inline constexpr std::uint32_t kFrameMagic = 0x4c534d46;  // "LSMF"
inline constexpr std::uint32_t kFrameData = 1;
inline constexpr std::uint32_t kFrameEnd = 2;
inline constexpr std::size_t kMaxFrame = 4 * 1024 * 1024;

class FrameWriter {
 public:
  FrameWriter(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  void data(std::string_view bytes);
  void end();
  std::uint64_t total() const { return total_; }

 private:
  int fd_;
  std::string what_;
  std::uint64_t total_ = 0;
};

class FrameReader {
 public:
  FrameReader(FdReader& in, std::string what) : in_(in), what_(std::move(what)) {}
  // The next DATA payload; nullopt after a valid END frame.
  std::optional<std::string> next(Deadline deadline = Deadline::never());
  std::uint64_t total() const { return total_; }

 private:
  FdReader& in_;
  std::string what_;
  std::uint64_t total_ = 0;
};

}  // namespace lsm::proto

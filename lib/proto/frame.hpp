// Framing for bulk bytes (RAM and device state) on a stream between tools.
// Each frame is a 16-byte header, "LSMF", kind (u32) and length (u64), all
// big-endian, then the payload for DATA frames. A ZERO frame stands for
// `length` zero bytes: libxc sends every page of a guest, and the pages a
// guest never touched are zero. An END frame carries the total payload byte
// count instead, so a stream cut anywhere, or one that lost bytes, is
// detected rather than fed to QEMU or libxl as if complete.
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
inline constexpr std::uint32_t kFrameZero = 3;
inline constexpr std::size_t kMaxFrame = 4 * 1024 * 1024;

class FrameWriter {
 public:
  FrameWriter(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
  void data(std::string_view bytes);
  // The n bytes a stream socket holds (at least that many) as one DATA
  // frame, spliced: they do not pass through this process. The stream
  // must be a pipe.
  void splice_data(int from, std::size_t n);
  // bytes as DATA frames, but its runs of zeros (whole blocks of 512
  // bytes) as ZERO frames.
  void sparse(std::string_view bytes);
  void end();
  // Payload bytes so far, zeros included.
  std::uint64_t total() const { return total_; }
  // Bytes written so far, headers included: what the channel carried.
  std::uint64_t wire_bytes() const { return wire_; }

 private:
  void append_data(std::string& out, std::string_view bytes);
  void append_zeros(std::string& out, std::uint64_t n);
  void flush(const std::string& out);
  int fd_;
  std::string what_;
  std::uint64_t total_ = 0;
  std::uint64_t wire_ = 0;
};

class FrameReader {
 public:
  FrameReader(FdReader& in, std::string what) : in_(in), what_(std::move(what)) {}
  // The next payload (a ZERO frame's as zeros); nullopt after a valid
  // END frame.
  std::optional<std::string> next(Deadline deadline = Deadline::never());
  // The next payload written to fd instead (DATA moved by FdReader::pass,
  // without a copy where the kernel can); false after a valid END frame.
  bool next_to(int fd, const std::string& fd_what, Deadline deadline = Deadline::never());
  std::uint64_t total() const { return total_; }
  const std::string& what() const { return what_; }

 private:
  struct Header {
    std::uint32_t kind;
    std::uint64_t len;
  };
  // The next header, checked; nullopt for a valid END frame.
  std::optional<Header> next_header(Deadline deadline);
  ProtocolError truncated_inside() const;

  FdReader& in_;
  std::string what_;
  std::uint64_t total_ = 0;
};

// The payloads of a framed stream as one byte stream, for a parser that
// reads exact counts across frame boundaries (the Xen relay). A stream
// that ends cleanly too early throws Error; bad framing, ProtocolError.
class FrameStream : public ByteReader {
 public:
  explicit FrameStream(FrameReader& frames) : frames_(frames) {}
  std::string read_exact(std::size_t n, Deadline deadline) override;
  // Once the parser has its last byte: the END frame must come next.
  void finish(Deadline deadline);

 private:
  FrameReader& frames_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool ended_ = false;
};

}  // namespace lsm::proto

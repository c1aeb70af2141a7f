// Buffered reading of lines and exact byte counts from a descriptor, with
// deadlines and a bound on line length, shared by the QMP client (socket) and
// the inter-tool streams (pipes).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/deadline.hpp"
#include "core/error.hpp"

namespace lsm {

// The peer went quiet for longer than allowed.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// Writes all of data, retrying on EINTR and short writes.
void write_all(int fd, std::string_view data, const std::string& what);

// Where a parser takes exact byte counts from: a descriptor (FdReader), or
// the payload of a framed stream (proto::FrameStream).
class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Exactly n bytes; throws if the stream ends first.
  virtual std::string read_exact(std::size_t n, Deadline deadline) = 0;
};

class FdReader : public ByteReader {
 public:
  FdReader(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}

  // The next line without its terminator ("\n" or "\r\n"); nullopt on a
  // clean end of stream. Throws on a line longer than max_len, on a stream
  // that ends mid-line and on timeout.
  std::optional<std::string> read_line(std::size_t max_len, Deadline deadline);

  std::string read_exact(std::size_t n, Deadline deadline) override;

  // Up to max bytes, at least one; empty string on end of stream.
  std::string read_some(std::size_t max, Deadline deadline);

  // A peer silent for longer than ms fails any read, whatever its
  // deadline (0: no such limit), so a dead link cannot hold a reader
  // forever.
  void set_idle_timeout(std::chrono::milliseconds ms) { idle_ms_ = static_cast<int>(ms.count()); }

  // Bytes held in memory, consumed or not: what a long stream costs.
  std::size_t buffered() const { return buf_.size(); }

 private:
  // Reads more into buf_; false on end of stream.
  bool fill(Deadline deadline);

  int fd_;
  std::string what_;
  std::string buf_;
  std::size_t pos_ = 0;
  int idle_ms_ = 0;
};

}  // namespace lsm

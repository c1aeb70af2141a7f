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
// head then body in one writev where the descriptor takes both: a reader
// on a pipe (ssh) finds them together instead of a small piece first.
void write_all(int fd, std::string_view head, std::string_view body, const std::string& what);

// A pipe of 1 MiB instead of 64 KiB for a stream of bulk bytes, so that
// each side moves more per system call; best effort (no pipe, or a limit
// on pipe memory, keeps what it was).
void widen_pipe(int fd);

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

  // Waits for the first byte or the end; true when the stream ended with
  // nothing left to read.
  bool at_end(Deadline deadline);

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
  // Waits until fd_ is readable; throws on timeout.
  void wait_readable(Deadline deadline);
  // Reads into p, n > 0: the count, 0 on end of stream, nullopt when a
  // non-blocking fd_ has nothing after all.
  std::optional<std::size_t> read_into(char* p, std::size_t n);

  int fd_;
  std::string what_;
  std::string buf_;
  std::size_t pos_ = 0;
  int idle_ms_ = 0;
};

}  // namespace lsm

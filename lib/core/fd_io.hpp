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

  // Moves the next n bytes to out_fd, those already buffered first, the
  // rest spliced by the kernel where it can (a pipe on either side) so bulk
  // bytes are not copied through this process. Throws if the stream ends
  // first. out_fd blocks, as for write_all: a full non-blocking one would
  // be retried without waiting.
  void pass(std::size_t n, int out_fd, const std::string& out_what, Deadline deadline);

  // Off: an exact read takes only what it asks for, leaving what follows
  // in the descriptor for pass() instead of copying it into the buffer.
  // Lines are still read in chunks.
  void set_read_ahead(bool on) { read_ahead_ = on; }

  // A peer silent for longer than ms fails any read, whatever its
  // deadline (0: no such limit), so a dead link cannot hold a reader
  // forever.
  void set_idle_timeout(std::chrono::milliseconds ms) { idle_ms_ = static_cast<int>(ms.count()); }

  // Bytes held in memory, consumed or not: what a long stream costs.
  std::size_t buffered() const { return buf_.size(); }

 private:
  // Reads more into buf_, up to want bytes unless reading ahead; false on
  // end of stream.
  bool fill(Deadline deadline, std::size_t want = kChunk);
  // Moves n bytes from fd_ to out_fd; false where the kernel cannot splice
  // between them (nothing moved then).
  bool splice_to(std::size_t n, int out_fd, const std::string& out_what, Deadline deadline);
  void copy_to(std::size_t n, int out_fd, const std::string& out_what, Deadline deadline);

  static constexpr std::size_t kChunk = 65536;
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
  bool read_ahead_ = true;
};

}  // namespace lsm

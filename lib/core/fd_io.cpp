#include "core/fd_io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/log.hpp"

namespace lsm {

namespace {

// Large reads go straight into the caller's string: a frame of RAM copied
// through a 64 KiB staging buffer costs a copy and a poll per piece.
constexpr std::size_t kDirectRead = 65536;

}  // namespace

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError("writing to " + what, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void write_all(int fd, std::string_view head, std::string_view body, const std::string& what) {
  while (!head.empty()) {
    struct iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                           {const_cast<char*>(body.data()), body.size()}};
    ssize_t n = ::writev(fd, iov, body.empty() ? 1 : 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError("writing to " + what, errno);
    }
    auto done = static_cast<std::size_t>(n);
    std::size_t from_head = std::min(done, head.size());
    head.remove_prefix(from_head);
    body.remove_prefix(done - from_head);
  }
  write_all(fd, body, what);
}

void widen_pipe(int fd) {
  if (::fcntl(fd, F_SETPIPE_SZ, 1 << 20) < 0)
    log::debug("keeping the default pipe size of fd " + std::to_string(fd) + ": " +
               std::strerror(errno));
}

void FdReader::wait_readable(Deadline deadline) {
  for (;;) {
    struct pollfd p = {fd_, POLLIN, 0};
    int timeout = deadline.poll_timeout_ms();
    bool idle = idle_ms_ > 0 && (timeout < 0 || timeout > idle_ms_);
    int r = ::poll(&p, 1, idle ? idle_ms_ : timeout);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw SystemError("waiting for " + what_, errno);
    }
    if (r == 0 && idle)
      throw TimeoutError("nothing from " + what_ + " for " + std::to_string(idle_ms_) + " ms");
    if (r == 0) throw TimeoutError("timed out waiting for " + what_);
    return;
  }
}

std::optional<std::size_t> FdReader::read_into(char* p, std::size_t n) {
  for (;;) {
    ssize_t r = ::read(fd_, p, n);
    if (r >= 0) return static_cast<std::size_t>(r);
    if (errno == EAGAIN) return std::nullopt;
    if (errno != EINTR) throw SystemError("reading from " + what_, errno);
  }
}

bool FdReader::fill(Deadline deadline, std::size_t want) {
  // Consumed bytes go once they are half the buffer: a stream read in
  // pieces smaller than what each read() brings must not grow it forever,
  // and moving the rest costs no more than the reads that brought it.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  char chunk[kChunk];
  std::size_t ask = read_ahead_ ? kChunk : std::min(want, kChunk);
  std::optional<std::size_t> n;
  while (!n) {
    wait_readable(deadline);
    n = read_into(chunk, ask);
  }
  if (*n == 0) return false;
  buf_.append(chunk, *n);
  return true;
}

std::optional<std::string> FdReader::read_line(std::size_t max_len,
                                               Deadline deadline) {
  // Bytes after pos_ already searched for a newline; relative because
  // fill() may move the buffer's contents.
  std::size_t searched = 0;
  for (;;) {
    std::size_t nl = buf_.find('\n', pos_ + searched);
    if (nl != std::string::npos) {
      std::size_t end = (nl > pos_ && buf_[nl - 1] == '\r') ? nl - 1 : nl;
      if (end - pos_ > max_len)
        throw Error(what_ + ": line longer than " + std::to_string(max_len) +
                    " bytes");
      std::string line = buf_.substr(pos_, end - pos_);
      pos_ = nl + 1;
      return line;
    }
    if (buf_.size() - pos_ > max_len)
      throw Error(what_ + ": line longer than " + std::to_string(max_len) +
                  " bytes");
    searched = buf_.size() - pos_;
    if (!fill(deadline)) {
      if (pos_ == buf_.size()) return std::nullopt;
      throw Error(what_ + ": stream ended in the middle of a line (" +
                  std::to_string(buf_.size() - pos_) + " bytes pending)");
    }
  }
}

std::string FdReader::read_exact(std::size_t n, Deadline deadline) {
  if (n - std::min(n, buf_.size() - pos_) >= kDirectRead) {
    std::string out(buf_, pos_);
    std::size_t got = out.size();
    buf_.clear();
    pos_ = 0;
    out.resize(n);
    while (got < n) {
      wait_readable(deadline);
      std::optional<std::size_t> r = read_into(out.data() + got, n - got);
      if (!r) continue;
      if (*r == 0)
        throw Error(what_ + ": stream ended after " + std::to_string(got) + " of " +
                    std::to_string(n) + " expected bytes");
      got += *r;
    }
    return out;
  }
  while (buf_.size() - pos_ < n) {
    if (!fill(deadline, n - (buf_.size() - pos_)))
      throw Error(what_ + ": stream ended after " +
                  std::to_string(buf_.size() - pos_) + " of " +
                  std::to_string(n) + " expected bytes");
  }
  std::string out = buf_.substr(pos_, n);
  pos_ += n;
  return out;
}

bool FdReader::at_end(Deadline deadline) {
  return pos_ == buf_.size() && !fill(deadline);
}

std::string FdReader::read_some(std::size_t max, Deadline deadline) {
  if (pos_ == buf_.size() && !fill(deadline)) return {};
  std::size_t n = std::min(max, buf_.size() - pos_);
  std::string out = buf_.substr(pos_, n);
  pos_ += n;
  return out;
}

void FdReader::pass(std::size_t n, int out_fd, const std::string& out_what, Deadline deadline) {
  std::size_t held = std::min(n, buf_.size() - pos_);
  write_all(out_fd, std::string_view(buf_).substr(pos_, held), out_what);
  pos_ += held;
  n -= held;
  if (n > 0 && !splice_to(n, out_fd, out_what, deadline)) copy_to(n, out_fd, out_what, deadline);
}

bool FdReader::splice_to(std::size_t n, int out_fd, const std::string& out_what,
                         Deadline deadline) {
  std::size_t moved = 0;
  while (moved < n) {
    wait_readable(deadline);
    ssize_t r = ::splice(fd_, nullptr, out_fd, nullptr, n - moved, SPLICE_F_MOVE | SPLICE_F_MORE);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // EINVAL before any byte: neither descriptor is a pipe, or one side
    // cannot splice; the caller copies instead.
    if (r < 0 && errno == EINVAL && moved == 0) return false;
    if (r < 0) throw SystemError("moving bytes from " + what_ + " to " + out_what, errno);
    if (r == 0)
      throw Error(what_ + ": stream ended after " + std::to_string(moved) + " of " +
                  std::to_string(n) + " expected bytes");
    moved += static_cast<std::size_t>(r);
  }
  return true;
}

void FdReader::copy_to(std::size_t n, int out_fd, const std::string& out_what, Deadline deadline) {
  std::string chunk(std::min(n, kChunk), '\0');
  std::size_t moved = 0;
  while (moved < n) {
    wait_readable(deadline);
    std::optional<std::size_t> r = read_into(chunk.data(), std::min(n - moved, chunk.size()));
    if (!r) continue;
    if (*r == 0)
      throw Error(what_ + ": stream ended after " + std::to_string(moved) + " of " +
                  std::to_string(n) + " expected bytes");
    write_all(out_fd, std::string_view(chunk.data(), *r), out_what);
    moved += *r;
  }
}

}  // namespace lsm

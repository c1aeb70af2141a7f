#include "core/fd_io.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace lsm {

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

bool FdReader::fill(Deadline deadline) {
  // Consumed bytes go once they are half the buffer: a stream read in
  // pieces smaller than what each read() brings must not grow it forever,
  // and moving the rest costs no more than the reads that brought it.
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
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
    char chunk[65536];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw SystemError("reading from " + what_, errno);
    }
    if (n == 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
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
  while (buf_.size() - pos_ < n) {
    if (!fill(deadline))
      throw Error(what_ + ": stream ended after " +
                  std::to_string(buf_.size() - pos_) + " of " +
                  std::to_string(n) + " expected bytes");
  }
  std::string out = buf_.substr(pos_, n);
  pos_ += n;
  return out;
}

std::string FdReader::read_some(std::size_t max, Deadline deadline) {
  if (pos_ == buf_.size() && !fill(deadline)) return {};
  std::size_t n = std::min(max, buf_.size() - pos_);
  std::string out = buf_.substr(pos_, n);
  pos_ += n;
  return out;
}

}  // namespace lsm

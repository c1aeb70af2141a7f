#include "proto/status_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "core/fd_io.hpp"

namespace lsm::proto {

namespace {

std::size_t columns(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

void StatusLine::show(const std::string& status) {
  if (!smart_) {
    write(status + "\n");
  } else {
    // The last column left free: writing into it wraps on some terminals.
    std::size_t width = columns(fd_) - 1;
    write("\r" + status.substr(0, width) + "\033[K");
  }
  showing_ = true;
}

void StatusLine::print(std::string_view text) {
  if (text.empty()) return;
  // One write: the erase and the text reach the terminal together.
  write((showing_ && smart_ ? "\r\033[K" : "") + std::string(text));
  showing_ = false;
}

void StatusLine::end() {
  if (showing_ && smart_) write("\n");
  showing_ = false;
}

void StatusLine::write(std::string_view s) {
  if (dead_) return;
  try {
    write_all(fd_, s, "the terminal");
  } catch (const Error&) {
    dead_ = true;
  }
}

bool smart_terminal(int fd) {
  const char* term = std::getenv("TERM");
  return ::isatty(fd) == 1 && !(term && std::strcmp(term, "dumb") == 0);
}

}  // namespace lsm::proto

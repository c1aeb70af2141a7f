#include "core/unix_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/util.hpp"

namespace lsm {

sockaddr_un unix_address(const std::string& path, const std::string& what) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw Error(what + " path too long (max " + std::to_string(sizeof addr.sun_path - 1) +
                " bytes): " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

SocketState probe_socket(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return SocketState::kAbsent;
    throw SystemError("checking " + path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) throw Error(path + " exists but is not a socket; not touching it");
  sockaddr_un addr = unix_address(path, "socket");
  // Non-blocking: a listener whose backlog is full (a QEMU busy with
  // another monitor client) says EAGAIN at once instead of making us wait.
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw SystemError("socket", errno);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
    return SocketState::kInUse;
  if (errno == ECONNREFUSED) return SocketState::kStale;
  if (errno == EAGAIN || errno == EINPROGRESS) return SocketState::kInUse;
  if (errno == ENOENT) return SocketState::kAbsent;
  throw SystemError("probing " + path, errno);
}

void remove_stale_socket(const std::string& path, const std::string& what) {
  switch (probe_socket(path)) {
    case SocketState::kAbsent:
      return;
    case SocketState::kStale:
      remove_file(path);
      return;
    case SocketState::kInUse:
      throw Error(what + " " + path + " is in use: a process listens on it (maybe busy); "
                  "stop that process first");
  }
}

UniqueFd connect_unix(const std::string& path, const std::string& what) {
  sockaddr_un addr = unix_address(path, what);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw SystemError("socket", errno);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    throw SystemError("connecting to " + what + " " + path, errno);
  return fd;
}

UnixListener::UnixListener(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  sockaddr_un addr = unix_address(path_, what_);
  remove_stale_socket(path_, what_);
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_) throw SystemError("socket", errno);
  // Bound under a umask that leaves the socket ours alone: connecting
  // needs write permission on it, and fchmod does not apply to sockets.
  mode_t old = ::umask(077);
  int r = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::umask(old);
  if (r < 0) throw SystemError("binding " + what_ + " " + path_, err);
  if (::listen(fd_.get(), 1) < 0) {
    err = errno;
    remove_file(path_);
    throw SystemError("listening on " + what_ + " " + path_, err);
  }
}

UnixListener::~UnixListener() {
  fd_.reset();
  ::unlink(path_.c_str());
}

UniqueFd UnixListener::accept(Deadline deadline) {
  for (;;) {
    struct pollfd p = {fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw SystemError("waiting on " + what_ + " " + path_, errno);
    if (r == 0) throw TimeoutError("nothing connected to " + what_ + " " + path_ + " in time");
    UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c) return c;
    if (errno != EINTR && errno != ECONNABORTED)
      throw SystemError("accepting on " + what_ + " " + path_, errno);
  }
}

}  // namespace lsm

#include "core/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
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

}  // namespace lsm

// Unix sockets lsm finds at a path: its own, left by a process that died,
// or in use by one that lives (maybe too busy to answer).
#pragma once

#include <sys/un.h>

#include <string>

#include "core/deadline.hpp"
#include "core/unique_fd.hpp"

namespace lsm {

// The address of path; throws naming what if the path is too long.
sockaddr_un unix_address(const std::string& path, const std::string& what);

enum class SocketState {
  kAbsent,   // nothing at path
  kStale,    // a socket file nothing listens on (ECONNREFUSED)
  kInUse,    // a listener: it accepted, or its backlog is full (EAGAIN)
};

// Looks without waiting: a busy listener is in use, not stale.
SocketState probe_socket(const std::string& path);

// Removes a stale socket at path so a new server can bind there; throws,
// leaving it alone, if something still listens on it.
void remove_stale_socket(const std::string& path, const std::string& what);

// A connected stream socket to path; throws naming what.
UniqueFd connect_unix(const std::string& path, const std::string& what);

// A socket lsm listens on for one connection at a time, at a path of its
// own: no one else may connect whatever the umask, a stale socket there
// replaced, and removed when this ends.
class UnixListener {
 public:
  UnixListener(std::string path, std::string what);
  ~UnixListener();
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;
  // The next connection; throws TimeoutError once deadline passes.
  UniqueFd accept(Deadline deadline);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string what_;
  UniqueFd fd_;
};

}  // namespace lsm

// Unix sockets lsm finds at a path: its own, left by a process that died,
// or in use by one that lives (maybe too busy to answer).
#pragma once

#include <sys/un.h>

#include <string>

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

}  // namespace lsm

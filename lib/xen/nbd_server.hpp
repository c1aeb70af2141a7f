// Destination disks of a Xen migration are served by standalone qemu-nbd
// processes (the destination's device model does not exist yet), one per
// image, each on a unix socket in lsm's private run directory.
#pragma once

#include <sys/types.h>

#include <string>

namespace lsm::xen {

struct NbdServer {
  pid_t pid = 0;
  std::string socket;
  std::string export_name;
};

// Starts serving image (format fmt) read-write; returns once the socket
// accepts connections. The server outlives the calling tool.
NbdServer start_nbd_server(const std::string& image, const std::string& format,
                           const std::string& socket, const std::string& export_name,
                           const std::string& log);

// Stops it and waits until it has exited (so everything it wrote is in
// the image and it no longer holds the file). Throws if it will not go. A
// pid that no longer serves socket is not ours and is left alone.
void stop_nbd_server(pid_t pid, const std::string& socket, const std::string& what);

}  // namespace lsm::xen

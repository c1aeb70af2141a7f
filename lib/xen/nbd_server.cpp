#include "xen/nbd_server.hpp"

#include <signal.h>

#include <chrono>
#include <thread>

#include "core/error.hpp"
#include "core/own_process.hpp"
#include "core/subprocess.hpp"
#include "core/unix_socket.hpp"
#include "core/util.hpp"

namespace lsm::xen {

using namespace std::chrono_literals;

namespace {

bool wait_gone(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

NbdServer start_nbd_server(const std::string& image, const std::string& format,
                           const std::string& socket, const std::string& export_name,
                           const std::string& log) {
  remove_stale_socket(socket, "NBD socket");
  // -t: a reconnecting mirror must find it still there.
  Subprocess p = Subprocess::spawn_detached(
      {"qemu-nbd", "-f", format, "-k", socket, "-x", export_name, "-t", "--cache=writeback", image},
      log);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (probe_socket(socket) != SocketState::kInUse) {
    if (p.wait(0ms))
      throw Error("qemu-nbd for " + image + " exited at start-up: " + read_tail(log));
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("qemu-nbd for " + image + " did not open " + socket + " within 30 s");
    std::this_thread::sleep_for(20ms);
  }
  return NbdServer{p.release(), socket, export_name};
}

void stop_nbd_server(pid_t pid, const std::string& socket, const std::string& what) {
  // A pid from the state file may have been reused: only a qemu-nbd
  // serving this socket is ours.
  if (!signal_own(pid, socket, SIGTERM, "the qemu-nbd of " + socket)) return;
  if (wait_gone(pid, 60s)) return;
  throw Error(what + ": qemu-nbd (pid " + std::to_string(pid) +
              ") did not exit within 60 s of SIGTERM; it may still hold the image");
}

}  // namespace lsm::xen

#include "xen/nbd_server.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "core/unique_fd.hpp"
#include "core/util.hpp"

namespace lsm::xen {

using namespace std::chrono_literals;

namespace {

bool accepts(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw SystemError("socket", errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw Error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

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
  ::unlink(socket.c_str());
  // -t: a reconnecting mirror must find it still there.
  Subprocess p = Subprocess::spawn_detached(
      {"qemu-nbd", "-f", format, "-k", socket, "-x", export_name, "-t", "--cache=writeback", image},
      log);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!accepts(socket)) {
    if (p.wait(0ms))
      throw Error("qemu-nbd for " + image + " exited at start-up: " + read_tail(log));
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("qemu-nbd for " + image + " did not open " + socket + " within 30 s");
    std::this_thread::sleep_for(20ms);
  }
  return NbdServer{p.release(), socket, export_name};
}

void stop_nbd_server(pid_t pid, const std::string& what) {
  if (pid <= 0 || !process_alive(pid)) return;
  ::kill(pid, SIGTERM);
  if (wait_gone(pid, 60s)) return;
  throw Error(what + ": qemu-nbd (pid " + std::to_string(pid) +
              ") did not exit within 60 s of SIGTERM; it may still hold the image");
}

}  // namespace lsm::xen

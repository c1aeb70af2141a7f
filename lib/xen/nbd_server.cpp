#include "xen/nbd_server.hpp"

#include <fcntl.h>
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
#include "qemu/launch.hpp"

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
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log_fd) throw SystemError("opening " + log, errno);
  ::unlink(socket.c_str());
  SpawnOptions so;
  so.stdout_fd = log_fd.get();
  so.stderr_fd = log_fd.get();
  so.new_session = true;
  // -t: a reconnecting mirror must find it still there.
  Subprocess p = Subprocess::spawn({"qemu-nbd", "-f", format, "-k", socket, "-x", export_name,
                                    "-t", "--cache=writeback", image},
                                   so);
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!accepts(socket)) {
    if (p.wait(0ms))
      throw Error("qemu-nbd for " + image + " exited at start-up: " + qemu::log_tail(log));
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

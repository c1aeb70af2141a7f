#include "qemu/launch.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "core/unix_socket.hpp"
#include "core/util.hpp"
#include "qmp/client.hpp"

namespace lsm::qemu {

using namespace std::chrono_literals;

pid_t launch(const std::vector<std::string>& argv, const std::string& qmp_socket,
             const std::string& log) {
  remove_stale_socket(qmp_socket, "QMP socket");
  Subprocess qemu = Subprocess::spawn_detached(argv, log);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    if (auto status = qemu.wait(0ms))
      throw Error("destination QEMU exited at start-up: " + read_tail(log));
    struct stat st;
    if (::stat(qmp_socket.c_str(), &st) == 0) {
      try {
        // Only to prove it answers; the caller connects for real.
        qmp::Client probe = qmp::Client::connect(qmp_socket, 10s);
        return qemu.release();
      } catch (const qmp::QmpError&) {
        throw;
      } catch (const Error&) {
        // Socket file exists but is not listening yet.
      }
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("destination QEMU did not open " + qmp_socket + " within 60 s");
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace lsm::qemu

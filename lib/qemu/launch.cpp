#include "qemu/launch.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "core/unique_fd.hpp"
#include "qmp/client.hpp"

namespace lsm::qemu {

using namespace std::chrono_literals;

std::string log_tail(const std::string& log, std::size_t max_bytes) {
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s)
    if (c == '\n') c = ' ';
  return s;
}

pid_t launch(const std::vector<std::string>& argv, const std::string& qmp_socket,
             const std::string& log) {
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log_fd) throw SystemError("opening QEMU log " + log, errno);
  ::unlink(qmp_socket.c_str());
  SpawnOptions o;
  o.stdout_fd = log_fd.get();
  o.stderr_fd = log_fd.get();
  o.new_session = true;
  Subprocess qemu = Subprocess::spawn(argv, o);
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    if (auto status = qemu.wait(0ms))
      throw Error("destination QEMU exited at start-up: " + log_tail(log));
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

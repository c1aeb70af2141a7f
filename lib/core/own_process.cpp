#include "core/own_process.hpp"

#include <fcntl.h>
#include <signal.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/log.hpp"
#include "core/subprocess.hpp"
#include "core/unique_fd.hpp"

namespace lsm {

namespace {

// The NUL-separated arguments as one string; empty if the process is gone
// or not ours to read.
std::string raw_cmdline(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  std::string all;
  try {
    FdReader r(fd.get(), path);
    for (std::string s; !(s = r.read_some(65536, Deadline::never())).empty();) all += s;
  } catch (const Error&) {
    return {};
  }
  return all;
}

}  // namespace

bool runs_with(pid_t pid, const std::string& marker) {
  if (marker.empty() || !process_alive(pid)) return false;
  // A marker never holds a NUL, so a match never spans two arguments.
  return raw_cmdline(pid).find(marker) != std::string::npos;
}

bool signal_own(pid_t pid, const std::string& marker, int sig, const std::string& what) {
  if (pid <= 0) return false;
  if (!runs_with(pid, marker)) {
    if (process_alive(pid))
      log::notice("pid " + std::to_string(pid) + " is not " + what + " any more (its command " +
                  "line does not name " + marker + "); leaving it alone");
    return false;
  }
  return ::kill(pid, sig) == 0;
}

}  // namespace lsm

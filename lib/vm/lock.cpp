#include "vm/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "core/error.hpp"
#include "vm/names.hpp"

namespace lsm::vm {

namespace {

std::string holder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

DomainLock::DomainLock(const std::string& run_dir, const std::string& name,
                       std::chrono::seconds wait) {
  std::string path = lsm_dir(run_dir) + "/" + name + ".lock";
  fd_.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd_) throw SystemError("opening " + path, errno);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd_.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) throw SystemError("locking " + path, errno);
    if (std::chrono::steady_clock::now() > deadline)
      throw Error("another lsm tool (pid " + holder(fd_.get()) + ") is working on '" + name +
                  "' on this host; wait for it to end");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (::ftruncate(fd_.get(), 0) < 0) throw SystemError("truncating " + path, errno);
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::pwrite(fd_.get(), pid.data(), pid.size(), 0) < 0) throw SystemError("writing " + path, errno);
}

}  // namespace lsm::vm

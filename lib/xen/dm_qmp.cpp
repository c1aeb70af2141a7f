#include "xen/dm_qmp.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"

namespace lsm::xen {

namespace {

// libxl's userdata lock: created, flock()ed, then checked to still be the
// file at that path (its holder unlinks it before unlocking).
UniqueFd take_lock(const std::string& path) {
  for (;;) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) throw SystemError("opening libxl's QMP lock " + path, errno);
    while (::flock(fd.get(), LOCK_EX) < 0)
      if (errno != EINTR) throw SystemError("locking " + path, errno);
    struct stat held, named;
    if (::fstat(fd.get(), &held) < 0) throw SystemError("fstat " + path, errno);
    if (::stat(path.c_str(), &named) == 0 && named.st_ino == held.st_ino &&
        named.st_dev == held.st_dev)
      return fd;
  }
}

qmp::Client connect_locked(std::uint32_t domid, const std::string& lock_path, UniqueFd& lock) {
  lock = take_lock(lock_path);
  try {
    return qmp::Client::connect(qmp_socket_path(domid));
  } catch (...) {
    ::unlink(lock_path.c_str());
    lock.reset();
    std::throw_with_nested(Error("domain " + std::to_string(domid) + "'s device model QMP"));
  }
}

}  // namespace

std::string qmp_socket_path(std::uint32_t domid) {
  return "/var/run/xen/qmp-libxl-" + std::to_string(domid);
}

DeviceModelQmp::DeviceModelQmp(std::uint32_t domid, const std::string& uuid)
    : lock_path_("/var/lib/xen/userdata-l." + std::to_string(domid) + "." + uuid +
                 ".qmp-socket-lock"),
      client_(connect_locked(domid, lock_path_, lock_)) {}

DeviceModelQmp::~DeviceModelQmp() {
  // Disconnect before releasing the lock, as libxl does.
  client_.reset();
  ::unlink(lock_path_.c_str());
}

}  // namespace lsm::xen

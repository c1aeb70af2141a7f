#include "vm/state_file.hpp"

#include <fcntl.h>

#include <cerrno>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"

namespace lsm::vm {

namespace {

// A state file holds disk lists, the Xen configuration among them.
constexpr std::size_t kMaxStateFile = 16 * 1024 * 1024;

}  // namespace

std::optional<json::Document> read_state_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP)
      throw Error(path + " is a symbolic link, which lsm never makes; not following it "
                  "(remove it, and find out who planted it)");
    throw SystemError("reading " + path, errno);
  }
  FdReader r(fd.get(), path);
  auto line = r.read_line(kMaxStateFile, Deadline::never());
  if (!line) throw Error(path + " is empty");
  return json::parse(*line, path);
}

}  // namespace lsm::vm

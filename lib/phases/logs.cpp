#include "phases/logs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"

namespace lsm::phases {

namespace {

constexpr off_t kMaxBytes = 4 << 20;

// The last kMaxBytes of a regular file; nullopt if there is none at path.
// Never through a symlink: lsm and libxl write these logs as files, so a
// link in their place is someone else's.
std::optional<std::string> tail_of(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError("cannot open log " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw SystemError("cannot stat log " + path, errno);
  if (!S_ISREG(st.st_mode)) throw Error("log " + path + " is not a regular file");
  off_t from = st.st_size > kMaxBytes ? st.st_size - kMaxBytes : 0;
  std::string out;
  char buf[65536];
  for (off_t at = from;;) {
    ssize_t n = ::pread(fd.get(), buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot read log " + path, errno);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    at += n;
    // A log still growing ends here all the same.
    if (at >= from + kMaxBytes) break;
  }
  return out;
}

}  // namespace

void print_logs(const SourceOptions& o, int out_fd) {
  backend::VmRef vm = vm_ref(o.name, o.run_dir);
  for (const auto& path : o.backends(o.backend).log_files(vm)) {
    auto text = tail_of(path);
    if (!text) continue;
    if (!text->empty() && text->back() != '\n') text->push_back('\n');
    write_all(out_fd, "==> " + path + " <==\n" + *text, "the logs");
  }
}

}  // namespace lsm::phases

#include "qemu/cmdline.hpp"

#include <fcntl.h>

#include <cerrno>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"

namespace lsm::qemu {

std::vector<std::string> read_cmdline(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/cmdline";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw SystemError("reading QEMU's command line " + path, errno);
  FdReader r(fd.get(), path);
  std::string all;
  for (std::string s; !(s = r.read_some(65536, Deadline::never())).empty();) all += s;
  std::vector<std::string> argv;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    argv.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  if (argv.empty()) throw Error(path + " is empty (process exiting?)");
  return argv;
}

std::vector<std::string> destination_argv(const std::vector<std::string>& source,
                                          const std::string& source_qmp,
                                          const std::string& dest_qmp,
                                          const vm::PathMap& map) {
  std::vector<std::string> out{source[0]};
  for (std::size_t i = 1; i < source.size(); ++i) {
    std::string opt = source[i];
    // QEMU accepts --opt for -opt.
    if (opt.rfind("--", 0) == 0) opt = opt.substr(1);
    bool has_value = i + 1 < source.size();
    if (opt == "-daemonize") continue;
    if (opt == "-incoming" && has_value) {
      ++i;
      continue;
    }
    if (opt == "-qmp" && has_value &&
        source[i + 1].find(source_qmp) != std::string::npos) {
      ++i;
      continue;
    }
    out.push_back(map.map_arg(source[i]));
  }
  out.insert(out.end(), {"-qmp", "unix:" + dest_qmp + ",server=on,wait=off",
                         "-S", "-incoming", "defer"});
  return out;
}

}  // namespace lsm::qemu

#include "qemu/cmdline.hpp"

#include <fcntl.h>

#include <cerrno>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"
#include "qemu/allowlist.hpp"
#include "qemu/options.hpp"

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
                                          const vm::PathMap& map, const Here& here) {
  Cmdline src = parse_cmdline(source);
  Cmdline dst{allowed_emulator(src.program, here.policy), {}};
  for (auto& o : src.options) {
    if (o.name == "daemonize" || o.name == "incoming") continue;
    if (o.name == "qmp" && o.value->find(source_qmp) != std::string::npos) continue;
    if (o.value) o.value = map.map_arg(*o.value);
    dst.options.push_back(std::move(o));
  }
  check_options(dst, here.policy, here.run_dir);
  dst.options.push_back({"qmp", "unix:" + here.qmp + ",server=on,wait=off"});
  dst.options.push_back({"S", std::nullopt});
  dst.options.push_back({"incoming", "defer"});
  return to_argv(dst);
}

}  // namespace lsm::qemu

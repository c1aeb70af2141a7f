#include "vm/source_state.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"
#include "json/json.hpp"
#include "vm/names.hpp"

namespace lsm::vm {

namespace {

std::string path_of(const std::string& run, const std::string& name) {
  return lsm_dir(run) + "/" + name + ".source.json";
}

}  // namespace

void save_source_state(const std::string& run, const std::string& name,
                       const SourceState& s) {
  std::string path = path_of(run, name);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) throw SystemError("writing " + path, errno);
  write_all(fd.get(),
            std::string("{\"was_running\":") + (s.was_running ? "true" : "false") +
                ",\"mirrors\":" + std::to_string(s.mirrors) + "}\n",
            path);
}

std::optional<SourceState> load_source_state(const std::string& run,
                                             const std::string& name) {
  std::string path = path_of(run, name);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError("reading " + path, errno);
  }
  FdReader r(fd.get(), path);
  auto line = r.read_line(4096, Deadline::never());
  if (!line) throw Error(path + " is empty");
  auto d = json::parse(*line, path);
  SourceState s;
  s.was_running = json::bool_at(d, "was_running", path);
  s.mirrors = static_cast<int>(json::u64_at(d, "mirrors", path));
  return s;
}

void clear_source_state(const std::string& run, const std::string& name) {
  std::string path = path_of(run, name);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw SystemError("removing " + path, errno);
}

}  // namespace lsm::vm

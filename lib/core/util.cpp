#include "core/util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"

namespace lsm {

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw SystemError("removing " + path, errno);
}

namespace {

void write_and_sync(int fd, const std::string& content, const std::string& path) {
  write_all(fd, content, path);
  if (::fsync(fd) < 0) throw SystemError("fsync " + path, errno);
}

// The new name itself is durable only once its directory is.
void sync_parent(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw SystemError("opening " + dir, errno);
  if (::fsync(fd.get()) < 0) throw SystemError("fsync " + dir, errno);
}

}  // namespace

UniqueFd create_private_file(const std::string& path) {
  remove_file(path);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) throw SystemError("creating " + path, errno);
  return fd;
}

UniqueFd open_private_log(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) throw SystemError("opening " + path, errno);
  return fd;
}

void write_file_atomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  write_and_sync(create_private_file(tmp).get(), content, tmp);
  if (::rename(tmp.c_str(), path.c_str()) < 0) throw SystemError("renaming " + tmp, errno);
  sync_parent(path);
}

void create_file_durably(const std::string& path, const std::string& content) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) throw SystemError("creating " + path, errno);
  write_and_sync(fd.get(), content, path);
  sync_parent(path);
}

std::string read_tail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s)
    if (c == '\n') c = ' ';
  return s;
}

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_bytes(std::uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / double(1ull << 30));
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / double(1ull << 20));
  return buf;
}

bool is_xen_dom0() {
  std::ifstream caps("/proc/xen/capabilities");
  std::string s;
  std::getline(caps, s);
  return s.find("control_d") != std::string::npos;
}

}  // namespace lsm

#include "policy/places.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "core/error.hpp"

namespace lsm::policy {

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The path with every symbolic link resolved; empty if it does not exist.
std::string resolved(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) return buf;
  if (errno == ENOENT || errno == ENOTDIR) return {};
  throw SystemError("resolving " + path, errno);
}

}  // namespace

bool normal_absolute(const std::string& path) {
  if (path == "/") return true;
  if (path.empty() || path[0] != '/' || path.back() == '/') return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

bool inside(const std::string& path, const std::string& dir) {
  if (!normal_absolute(path)) return false;
  // A run directory given as "/run/lsm/" is "/run/lsm".
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  if (d == "/") return true;
  return path.compare(0, d.size(), d) == 0 && (path.size() == d.size() || path[d.size()] == '/');
}

bool inside_any(const std::string& path, const std::vector<std::string>& dirs) {
  for (const auto& d : dirs)
    if (inside(path, d)) return true;
  return false;
}

void check_volume_group(const std::string& vg, const Policy& p) {
  for (const auto& g : p.volume_groups)
    if (g == vg) return;
  throw Error("volume group " + vg + " is not one this host lets migrations create volumes in " +
              allow_hint(p, "volume_groups"));
}

void check_image(const std::string& path, const Policy& p) {
  if (!normal_absolute(path))
    throw Error("image path '" + path +
                "' is not absolute or has '.', '..' or empty components; refused");
  std::string root;
  for (const auto& r : p.image_roots)
    if (inside(path, r) && path != r) root = r;
  if (root.empty())
    throw Error("image path " + path + " is outside the image roots " +
                allow_hint(p, "image_roots"));
  std::string dir = parent_of(path), real_dir = resolved(dir), real_root = resolved(root);
  if (real_dir.empty())
    throw Error("target directory " + dir +
                " does not exist on the destination (create it, or use --map)");
  if (real_root.empty() || !inside(real_dir, real_root))
    throw Error("image path " + path + ": its directory is really " + real_dir +
                " (a symbolic link on the way), outside the image root " + root + " " +
                allow_hint(p, "image_roots"));
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    throw Error("image path " + path + " is a symbolic link; refused");
}

}  // namespace lsm::policy

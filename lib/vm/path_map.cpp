#include "vm/path_map.hpp"

#include "core/error.hpp"

namespace lsm::vm {

namespace {

std::string strip_slash(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

PathMap::PathMap(const std::vector<std::string>& specs) {
  for (const auto& s : specs) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size() ||
        s[0] != '/' || s[eq + 1] != '/')
      throw UsageError("--map '" + s + "': expected OLD=NEW with absolute paths");
    auto old = strip_slash(s.substr(0, eq)), now = strip_slash(s.substr(eq + 1));
    if (old == "/" || now == "/")
      throw UsageError("--map '" + s + "': map directories, not the root");
    rules_.emplace_back(std::move(old), std::move(now));
  }
}

std::string PathMap::map_path(const std::string& path) const {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& r : rules_) {
    const auto& old = r.first;
    bool match = path.compare(0, old.size(), old) == 0 &&
                 (path.size() == old.size() || path[old.size()] == '/');
    if (match && (!best || old.size() > best->first.size())) best = &r;
  }
  return best ? best->second + path.substr(best->first.size()) : path;
}

std::string PathMap::map_arg(const std::string& arg) const {
  if (rules_.empty()) return arg;
  std::string out;
  std::size_t i = 0;
  while (i < arg.size()) {
    bool at_start = i == 0 || arg[i - 1] == '=' || arg[i - 1] == ',' || arg[i - 1] == ':';
    if (at_start && arg[i] == '/') {
      // A path runs to the next option separator.
      std::size_t end = arg.find(',', i);
      if (end == std::string::npos) end = arg.size();
      out += map_path(arg.substr(i, end - i));
      i = end;
    } else {
      out += arg[i++];
    }
  }
  return out;
}

}  // namespace lsm::vm

// --map OLD=NEW: path prefixes rewritten for a destination whose layout
// differs. Only whole path components match: /a=/b maps /a/x, not /ab.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lsm::vm {

class PathMap {
 public:
  // Each spec is OLD=NEW with both absolute; throws UsageError otherwise.
  explicit PathMap(const std::vector<std::string>& specs);
  // The path with the longest matching prefix replaced.
  std::string map_path(const std::string& path) const;
  // Every absolute path inside a command-line argument ("file=/x,..."),
  // i.e. after the start, '=' , ',' or ':', mapped.
  std::string map_arg(const std::string& arg) const;

 private:
  std::vector<std::pair<std::string, std::string>> rules_;
};

}  // namespace lsm::vm

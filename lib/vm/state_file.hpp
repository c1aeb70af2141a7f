// Reading the one-line JSON records lsm keeps in RUN/lsm (the destination's
// state file, the source's migration record).
#pragma once

#include <optional>
#include <string>

#include "json/json.hpp"

namespace lsm::vm {

// The record at path, or nullopt if there is none. Never read through a
// symlink: lsm makes none there, so one is refused naming the path.
std::optional<json::Document> read_state_file(const std::string& path);

}  // namespace lsm::vm

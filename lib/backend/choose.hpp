// The one place that knows every backend: from a name on a command line
// or in a message, or from what this host is, to the backend's table.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backend/backend.hpp"

namespace lsm::backend {

const char* name_of(Kind k);
// The names kind_named takes, for a command line's check.
std::vector<std::string> kind_names();
// Throws Error naming the value unless it is "qemu" or "xen".
Kind kind_named(const std::string& name);
// xen on a Xen dom0, qemu elsewhere.
Kind host_kind();

// The phases take their backends through this, so that tests can hand
// them a scripted one.
using BackendFor = std::function<const Backend&(Kind)>;
const Backend& backend_for(Kind k);

}  // namespace lsm::backend

// Where a received description may point on this host: the checks every
// path from the source goes through before anything is created or started.
// Paths are compared by whole components, and only in normal form: a path
// with ".", ".." or an empty component is refused rather than resolved, so
// what is checked is what QEMU, libxl or qemu-img will open.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace lsm::policy {

// Absolute, with no ".", ".." or empty component ("/" itself is normal).
bool normal_absolute(const std::string& path);

// Whether path is normal_absolute and dir or below it.
bool inside(const std::string& path, const std::string& dir);
bool inside_any(const std::string& path, const std::vector<std::string>& dirs);

// An image this host creates or opens: inside one of the image roots,
// also once the symbolic links of its directory are resolved, and not a
// symbolic link itself. Throws naming the path and what would allow it.
void check_image(const std::string& path, const Policy& p);

// A logical volume this host creates or takes: its group is one of the
// policy's volume groups. Throws naming the group and the key.
void check_volume_group(const std::string& vg, const Policy& p);

}  // namespace lsm::policy

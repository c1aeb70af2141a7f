// Finding the source block node to mirror, for a device model whose drives
// lsm knows only by their image file (Xen's, whose ids libxl chose).
#pragma once

#include <string>

#include "qmp/client.hpp"

namespace lsm::mirror {

// The top node of the one drive whose image is file; throws if none or
// more than one has it open.
std::string node_for_file(qmp::Client& qmp, const std::string& file);

}  // namespace lsm::mirror

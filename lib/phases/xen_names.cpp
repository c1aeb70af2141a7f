#include "phases/xen.hpp"

namespace lsm::phases::xen {

std::string incoming_name(const std::string& name) { return name + "--incoming"; }
std::string migratedaway_name(const std::string& name) { return name + "--migratedaway"; }

}  // namespace lsm::phases::xen

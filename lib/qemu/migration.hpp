// Migration settings both sides of phase 1 and 3 make through QMP.
#pragma once

#include <initializer_list>

#include "qmp/client.hpp"

namespace lsm::qemu {

// migrate-set-capabilities with every capability named turned on.
void enable_capabilities(qmp::Client& qmp, std::initializer_list<const char*> caps);

}  // namespace lsm::qemu

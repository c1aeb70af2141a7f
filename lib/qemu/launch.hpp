// Starting a destination QEMU that outlives the ssh session that started it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace lsm::qemu {

// Starts argv in its own session with stdout and stderr appended to log,
// and returns its pid once its QMP socket accepts connections. If QEMU
// exits first, throws with the end of its log (QEMU's own complaint).
pid_t launch(const std::vector<std::string>& argv, const std::string& qmp_socket,
             const std::string& log);

}  // namespace lsm::qemu

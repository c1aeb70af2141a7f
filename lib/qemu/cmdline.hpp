// The source QEMU's command line, and the destination's derived from it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "vm/path_map.hpp"

namespace lsm::qemu {

// argv of a running process, from /proc/PID/cmdline.
std::vector<std::string> read_cmdline(pid_t pid);

// The destination QEMU's argv: the source's with paths mapped, the lsm QMP
// socket moved to dest_qmp, and started paused waiting for an incoming
// migration (-S -incoming defer). -daemonize goes: lsm detaches QEMU itself
// so it knows the pid and keeps its log.
std::vector<std::string> destination_argv(const std::vector<std::string>& source,
                                          const std::string& source_qmp,
                                          const std::string& dest_qmp,
                                          const vm::PathMap& map);

}  // namespace lsm::qemu

// The source QEMU's command line, and the destination's derived from it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/policy.hpp"
#include "vm/path_map.hpp"

namespace lsm::qemu {

// argv of a running process, from /proc/PID/cmdline.
std::vector<std::string> read_cmdline(pid_t pid);

// The destination host as the command line sees it.
struct Here {
  const policy::Policy& policy;
  std::string run_dir;
  std::string qmp;  // the lsm QMP socket the destination QEMU opens
};

// The destination QEMU's argv, rebuilt from the source's parsed options:
// the emulator by its allowed absolute path, paths mapped, every option
// checked against the host policy (throws naming the first it refuses),
// the lsm QMP socket moved to here.qmp, and started paused waiting for an
// incoming migration (-S -incoming defer). -daemonize goes: lsm detaches
// QEMU itself so it knows the pid and keeps its log.
std::vector<std::string> destination_argv(const std::vector<std::string>& source,
                                          const std::string& source_qmp,
                                          const vm::PathMap& map, const Here& here);

}  // namespace lsm::qemu

// A pid read back from a state file may name another process by now: pids
// are reused. A process lsm started is recognised by a path on its command
// line that only it uses (its QMP or NBD socket), and only then signalled.
#pragma once

#include <sys/types.h>

#include <string>

namespace lsm {

// True while pid runs (not a zombie) with marker in one of its arguments.
bool runs_with(pid_t pid, const std::string& marker);

// Sends sig to pid if it still runs_with marker and returns true; a pid
// that is not ours (any more) is left alone with a notice naming what.
bool signal_own(pid_t pid, const std::string& marker, int sig, const std::string& what);

}  // namespace lsm

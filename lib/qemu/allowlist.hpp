// The host policy applied to a received QEMU command line: which binary
// may run, which options may be replayed, and where the files and programs
// their values name may be. Anything else is refused before the
// destination creates or starts anything, in one line naming the option
// and the policy key that would allow it.
#pragma once

#include <string>

#include "policy/policy.hpp"
#include "qemu/options.hpp"

namespace lsm::qemu {

// The absolute path of the emulator argv0 names: one of the policy's
// emulators, given by that path or by its bare file name (the way users
// start QEMU from a shell). Never looked up in PATH.
std::string allowed_emulator(const std::string& argv0, const policy::Policy& p);

// Throws unless the policy allows every option of cmd (its paths already
// as they are on this host). run_dir is this host's: the files lsm itself
// places there (monitors, pidfiles, serial logs) are always allowed.
void check_options(const Cmdline& cmd, const policy::Policy& p, const std::string& run_dir);

}  // namespace lsm::qemu

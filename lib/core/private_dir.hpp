// The run directories (RUN, RUN/lsm, RUN/qemu) hold what lsm trusts: state
// files, locks, QMP and NBD sockets. Whoever can write there can plant any
// of them, so a directory is used only if no one else can.
#pragma once

#include <string>

namespace lsm {

// Creates dir with mode 0700 if missing. An existing one must be a real
// directory (not a symlink), owned by our effective uid and not writable
// by group or others; otherwise throws one line naming it and the fix.
void ensure_private_dir(const std::string& dir);

}  // namespace lsm

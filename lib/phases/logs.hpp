// What a host logged of a VM's migration, for lsm-migrate.sh --debug to
// keep beside its own log.
#pragma once

#include "phases/phases.hpp"

namespace lsm::phases {

// Writes each log of the VM this host holds (Backend::log_files) to
// out_fd, at most its last 4 MiB, under a "==> PATH <==" line as tail(1)
// heads files; logs that do not exist are left out.
void print_logs(const SourceOptions& o, int out_fd);

}  // namespace lsm::phases

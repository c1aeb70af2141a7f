// The backend for plain QEMU: a VM started with
// -name NAME -qmp unix:RUN/qemu/NAME.qmp,server=on,wait=off. The
// destination replays the source's command line into a new QEMU waiting
// for an incoming migration (-incoming defer), which exports its disks
// over NBD; the RAM stream goes through a descriptor handed to QEMU, and
// pause-before-switchover gives the moment to finish the mirrors.
#pragma once

#include "backend/backend.hpp"

namespace lsm::qemu {

// The operations, each side in its own file.
backend::SourceOps source_ops();
backend::DestinationOps destination_ops();
// Backend::log_files.
std::vector<std::string> log_files(const backend::VmRef& vm);

}  // namespace lsm::qemu

// Undoing a migration that did not reach its commit point (the destination
// guest running): the VM keeps running on the source, untouched, and the
// destination loses only what this migration created.
#pragma once

#include <string>

namespace lsm::phases {

// Source: cancel the migration and the mirrors, drop the NBD nodes, resume
// the guest if it was running. Idempotent.
void rollback_source(const std::string& run_dir, const std::string& name,
                     const std::string& backend);

// Destination: stop the incoming QEMU and delete the images it created.
// Refuses (IndeterminateError) if the destination guest already runs.
// Idempotent: nothing to do is not an error.
void rollback_destination(const std::string& run_dir, const std::string& name);

}  // namespace lsm::phases

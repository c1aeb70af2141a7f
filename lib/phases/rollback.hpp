// Undoing a migration that did not reach its commit point (the destination
// guest running): the VM keeps running on the source, untouched, and the
// destination loses only what this migration created.
#pragma once

#include "phases/phases.hpp"

namespace lsm::phases {

// Source: cancel the migration and the mirrors, resume the guest if lsm
// paused it. Idempotent.
void rollback_source(const SourceOptions& o);

// Destination: stop what phases 1-2 started and delete the images this
// migration created. Refuses (IndeterminateError) if the destination guest
// may already run. Idempotent: nothing to do is not an error.
void rollback_destination(const DestOptions& o);

// The same, for a step that fails on the destination after phase 1 saved
// its state: everything state records is undone, then state itself.
void undo_destination(const backend::Backend& be, const backend::VmRef& vm, const vm::DestState& state);

}  // namespace lsm::phases

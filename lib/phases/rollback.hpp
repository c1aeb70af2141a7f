// Undoing a migration whose destination copy never ran: the VM keeps
// running on the source, untouched, and the destination loses only what
// this migration created. Once the source has said "go", only the
// destination can tell whether its copy ran; each rollback consults the
// record that says so (the source's "go", the destination's commit marker).
#pragma once

#include "phases/phases.hpp"

namespace lsm::phases {

struct SourceRollbackOptions : SourceOptions {
  // The destination answered that it did not commit, and now never will
  // (its own rollback ran): the source copy may resume even after "go".
  bool not_committed = false;
};

// Source: cancel the migration and the mirrors, resume the guest if lsm
// paused it. Idempotent. IndeterminateError after "go" unless
// not_committed.
void rollback_source(const SourceRollbackOptions& o);

// Destination: stop what phases 1-2 started and delete the images this
// migration created. IndeterminateError if it committed here (the copy
// here may be the live one). Idempotent: nothing to do is not an error.
void rollback_destination(const DestOptions& o);

// The same, for a step that fails on the destination after phase 1 saved
// its state: everything state records is undone, then state itself.
void undo_destination(const backend::Backend& be, const backend::VmRef& vm,
                      const vm::DestState& state);

}  // namespace lsm::phases

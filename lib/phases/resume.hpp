// Phase 4: the commit, and releasing the source. The destination's commit
// is a durable marker written before the guest may run there, kept until
// the source copy is gone; the source copy ends only after the commit.
#pragma once

#include "phases/phases.hpp"

namespace lsm::phases {

// Destination, with the source's "go" (or by hand, the operator's): marks
// the commit durably, runs the guest here, forgets the rollback state.
// Returns when it resumed (seconds since the epoch; 0 if it was not
// running on the source or stays paused by leave_paused). A VM not ready
// to run fails before the marker, leaving a rollback possible; a failure
// after it is IndeterminateError.
double commit_destination(const backend::Backend& be, const backend::VmRef& vm,
                          const vm::DestState& state, bool leave_paused);

// Destination, by hand or to settle an interrupted migration: commits if
// not done yet (idempotent); writes a "resume" result to out_fd.
void resume_destination(const DestOptions& o, int out_fd);

// Destination, once the source copy is gone: drops the commit marker.
void release_destination(const DestOptions& o);

// Source: after the destination runs, end the source copy (idempotent:
// nothing to do once it is gone) and the migration record. Refuses while
// the source's migration has not completed.
void quit_source(const SourceOptions& o);

}  // namespace lsm::phases

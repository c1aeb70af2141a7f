// Phase 4: the commit. The destination resumes the guest and confirms it
// runs; only then may the source copy end.
#pragma once

#include "phases/phases.hpp"

namespace lsm::phases {

// Destination: resume the guest (if it ran on the source), confirm it
// runs, then forget the rollback state (the commit); writes a "result"
// with the resume time to out_fd.
void resume_destination(const DestOptions& o, int out_fd);

// Source: after the destination runs, end the source copy. Refuses while
// the source's migration has not completed.
void quit_source(const SourceOptions& o);

}  // namespace lsm::phases

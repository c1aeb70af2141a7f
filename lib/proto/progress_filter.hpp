// The work of lsm-progress view: what the tools write on stderr goes to a
// StatusLine, their progress lines drawn as one line (ProgressView) and
// every other byte as it came, so no error is lost or held back.
#pragma once

#include "proto/progress_view.hpp"
#include "proto/status_line.hpp"

namespace lsm::proto {

// Copies in_fd to out until in_fd ends, then ends the status line. A line
// still without its newline after a moment (a writer that died mid-line,
// a prompt) is printed as it is, and the rest of that line after it.
void filter_progress(int in_fd, StatusLine& out, const ViewOptions& o);

}  // namespace lsm::proto

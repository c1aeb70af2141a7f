// Phase 4: the commit. The destination resumes the guest and confirms it
// runs; only then may the source QEMU quit.
#pragma once

#include <string>

namespace lsm::phases {

// Destination: stop serving NBD, resume the guest (if it ran on the
// source), confirm it runs, forget the rollback state; writes a "result"
// with the resume time to out_fd.
void resume_destination(const std::string& run_dir, const std::string& name, int out_fd);

// The "result" of a resume, resumed_at in seconds since the epoch.
void write_resumed(int out_fd, double resumed_at);

// Source: after the destination runs, quit the source QEMU. Refuses while
// the source's migration has not completed.
void quit_source(const std::string& run_dir, const std::string& name, const std::string& backend);

}  // namespace lsm::phases

// Checks a libxl v2 migration stream (as written by `xl save` after its own
// header, or by lsm's Xen backend) against the format specs: the same relay
// the Xen destination feeds libxl through, with the bytes discarded.
#pragma once

namespace lsm::xen {

// Reads the stream on in_fd; writes a one-line JSON summary to out_fd.
void check_stream(int in_fd, int out_fd);

}  // namespace lsm::xen

// The backend for Xen domains, with libxl owning the domain on both hosts
// (docs/protocol.md 3.8). The source mirrors from the domain's device
// model and writes the libxl v2 stream itself around xc_domain_save, so
// that the mirrors finish while the guest is suspended; the destination
// serves its images with qemu-nbd until libxl rebuilds the domain from the
// stream, paused as NAME--incoming, which the commit unpauses and renames.
#pragma once

#include "backend/backend.hpp"

namespace lsm::xen {

// The operations, each side in its own file.
backend::SourceOps source_ops();
backend::DestinationOps destination_ops();
// Backend::log_files.
std::vector<std::string> log_files(const backend::VmRef& vm);

}  // namespace lsm::xen

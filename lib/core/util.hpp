// The small helpers every layer shares: files, time, units and what kind
// of host this is. Nothing here knows about VMs or protocols.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/unique_fd.hpp"

namespace lsm {

bool path_exists(const std::string& path);

// Removes path; a path that is already gone is not an error.
void remove_file(const std::string& path);

// A new file of ours for writing, mode 0600: never through a symlink, never
// an existing file (O_EXCL|O_NOFOLLOW). A leftover at path, say from a run
// that crashed, is removed first: unlink does not follow a planted symlink.
UniqueFd create_private_file(const std::string& path);

// Opens a log to append to (created 0600), never through a symlink.
UniqueFd open_private_log(const std::string& path);

// Replaces path with content (mode 0600): written aside, fsynced and
// renamed, so a crash leaves the old file or the new one, never half.
void write_file_atomically(const std::string& path, const std::string& content);

// Creates path with content (mode 0600) and makes it durable; throws
// SystemError with EEXIST if it exists already.
void create_file_durably(const std::string& path, const std::string& content);

// The last max_bytes of a log on one line, for error messages; empty if
// unreadable.
std::string read_tail(const std::string& path, std::size_t max_bytes = 600);

// Seconds since the epoch, as messages and summaries carry times.
double epoch_now();

// "1.5 MiB", "2.00 GiB".
std::string format_bytes(std::uint64_t bytes);

// True on a Xen dom0 (the toolstack domain), read from /proc without
// opening the Xen libraries.
bool is_xen_dom0();

}  // namespace lsm

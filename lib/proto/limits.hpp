// Bounds on what a peer may describe, checked before anything is sized,
// created or summed from it: a hostile or corrupt message gets one clear
// line instead of a wrapped sum or an absurd qemu-img create.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lsm::proto {

// Disks of one VM (and so exports). QEMU has no hard limit, but a guest
// with more than this is not one lsm has been tested with.
inline constexpr std::size_t kMaxDisks = 256;

// Bytes of one disk, virtual or allocated: 64 PiB, above any real image
// (qcow2 tops out far lower) yet far from wrapping a 64-bit sum.
inline constexpr std::uint64_t kMaxDiskBytes = 1ull << 56;

// A pid: Linux's PID_MAX_LIMIT. Larger values would become negative
// pid_t, which kill() takes for process groups.
inline constexpr std::uint64_t kMaxPid = 4194304;

}  // namespace lsm::proto

// A QEMU bug that loses guest writes in a live migration: before QEMU 9.0
// (fixed by commit 03bfc2188f, "physmem: Fix migration dirty bitmap
// coherency with TCG memory access"), the dirty bitmap sync of a RAM block
// whose size is a multiple of 64 pages cleared the bits without resetting
// the TCG vCPUs' TLBs, so a store through a TLB entry filled before the sync
// dirtied nothing and the page was never sent again. The guest then runs on
// the destination with stale memory: a crash, or worse, data it writes out.
// KVM tracks dirty pages in the kernel and is not affected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lsm::qemu {

struct TcgFacts {
  std::string qemu_version;     // "7.2.22", as the QMP greeting says it
  bool kvm = false;             // query-kvm "enabled"
  std::uint64_t ram_bytes = 0;  // base-memory
};

// The warning for a VM that meets the bug, naming it and what avoids it;
// nullopt when it does not (KVM, QEMU 9.0 or later, or a RAM size that
// takes QEMU's page-by-page sync, which resets the TLBs).
std::optional<std::string> tcg_dirty_hazard(const std::string& vm, const TcgFacts& facts);

}  // namespace lsm::qemu

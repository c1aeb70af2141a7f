#include "qemu/tcg_dirty_hazard.hpp"

#include <cstdio>

namespace lsm::qemu {

namespace {

// The fast path of the sync covers whole words of the bitmap: 64 pages of
// 4 KiB.
constexpr std::uint64_t kBitmapWordBytes = 64 * 4096;

bool before_9_0(const std::string& version) {
  unsigned major = 0;
  // A version QEMU did not tell is taken as affected: the warning costs a
  // line, a lost write costs the guest.
  if (std::sscanf(version.c_str(), "%u", &major) != 1) return true;
  return major < 9;
}

}  // namespace

std::optional<std::string> tcg_dirty_hazard(const std::string& vm, const TcgFacts& facts) {
  if (facts.kvm || !before_9_0(facts.qemu_version)) return std::nullopt;
  if (facts.ram_bytes % kBitmapWordBytes != 0) return std::nullopt;
  std::string version = facts.qemu_version.empty() ? "(version unknown)" : facts.qemu_version;
  return "QEMU " + version + " runs " + vm +
         " without KVM (TCG), and before QEMU 9.0 a TCG guest's writes to its RAM can be lost "
         "in a live migration (QEMU commit 03bfc2188f): the guest may crash or write out "
         "stale data on the destination. Use KVM or QEMU 9.0 or later, or give the guest a "
         "RAM size that is not a multiple of 256 KiB (such as -m " +
         std::to_string(facts.ram_bytes / 1024 + 8) + "k), which QEMU syncs page by page";
}

}  // namespace lsm::qemu

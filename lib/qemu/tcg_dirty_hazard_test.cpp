#include "qemu/tcg_dirty_hazard.hpp"

#include <gtest/gtest.h>

namespace lsm::qemu {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;

TEST(TcgDirtyHazard, a_tcg_guest_on_qemu_7_2_is_warned_with_the_fix_and_a_size_that_avoids_it) {
  auto w = tcg_dirty_hazard("g1", {"7.2.22", false, 256 * kMiB});
  ASSERT_TRUE(w);
  EXPECT_NE(w->find("QEMU 7.2.22 runs g1 without KVM"), std::string::npos) << *w;
  EXPECT_NE(w->find("03bfc2188f"), std::string::npos) << *w;
  EXPECT_NE(w->find("-m 262152k"), std::string::npos) << *w;
}

TEST(TcgDirtyHazard, kvm_qemu_9_and_a_ram_size_off_the_bitmap_words_are_not) {
  EXPECT_FALSE(tcg_dirty_hazard("g1", {"7.2.22", true, 256 * kMiB}));
  EXPECT_FALSE(tcg_dirty_hazard("g1", {"9.0.0", false, 256 * kMiB}));
  EXPECT_FALSE(tcg_dirty_hazard("g1", {"10.1.2", false, 256 * kMiB}));
  EXPECT_FALSE(tcg_dirty_hazard("g1", {"7.2.22", false, 256 * kMiB + 8192}));
}

TEST(TcgDirtyHazard, an_unknown_version_counts_as_affected) {
  auto w = tcg_dirty_hazard("g1", {"", false, 64 * kMiB});
  ASSERT_TRUE(w);
  EXPECT_NE(w->find("QEMU (version unknown) runs g1"), std::string::npos) << *w;
}

}  // namespace
}  // namespace lsm::qemu

#include "core/checked.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "testing/expect_throw.hpp"

namespace lsm {
namespace {

using lsm::testing::expect_throw;
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

TEST(Checked, add_and_mul_in_range_are_exact) {
  EXPECT_EQ(checked_add(kMax - 1, 1, "t"), kMax);
  EXPECT_EQ(checked_mul(1ull << 32, (1ull << 32) - 1, "t"), kMax - (1ull << 32) + 1);
}

TEST(Checked, add_overflow_throws_naming_what) {
  auto msg = expect_throw<Error>([] { checked_add(kMax, 1, "disks on /srv"); });
  EXPECT_NE(msg.find("disks on /srv: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("overflows 64 bits"), std::string::npos) << msg;
}

TEST(Checked, mul_overflow_throws) {
  expect_throw<Error>([] { checked_mul(1ull << 32, 1ull << 32, "free space"); });
}

}  // namespace
}  // namespace lsm

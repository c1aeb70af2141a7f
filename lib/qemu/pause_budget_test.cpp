#include "qemu/pause_budget.hpp"

#include <gtest/gtest.h>

namespace lsm::qemu {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;

TEST(PauseBudget, the_whole_downtime_until_a_rate_is_measured) {
  PauseBudget b(300);
  EXPECT_EQ(b.limit_ms({.queued = kMiB, .disk_behind = 4 * kMiB, .link_rate = 0}), 300u);
}

// 25 MiB/s (200 Mbit/s): 1 MiB in the pipe, ssh's 2 MiB window and 1 MiB
// of mirror lag take 160 ms, which QEMU does not get.
TEST(PauseBudget, the_bytes_ahead_of_qemu_come_off_at_the_link_rate) {
  PauseBudget b(300);
  EXPECT_EQ(b.limit_ms({.queued = kMiB, .disk_behind = kMiB, .link_rate = 25 * kMiB}), 140u);
}

TEST(PauseBudget, a_fast_link_leaves_qemu_nearly_all_of_it) {
  PauseBudget b(300);
  EXPECT_EQ(b.limit_ms({.queued = kMiB, .disk_behind = 0, .link_rate = 600 * kMiB}), 295u);
}

// QEMU held back by --bandwidth on a fast link: ssh keeps up, nothing
// waits in our pipe, so only the mirrors' lag is ahead.
TEST(PauseBudget, an_empty_pipe_says_ssh_holds_nothing_back) {
  PauseBudget b(300);
  EXPECT_EQ(b.limit_ms({.queued = 0, .disk_behind = kMiB, .link_rate = 4 * kMiB}), 50u);
  EXPECT_EQ(b.limit_ms({.queued = 0, .disk_behind = 0, .link_rate = 4 * kMiB}), 300u);
}

TEST(PauseBudget, a_tenth_stays_for_qemu_when_the_bytes_ahead_take_it_all) {
  PauseBudget b(300);
  PauseFigures slow{.queued = kMiB, .disk_behind = 8 * kMiB, .link_rate = 2 * kMiB};
  EXPECT_EQ(b.limit_ms(slow), 30u);
  auto msg = b.over(slow);
  ASSERT_TRUE(msg);
  EXPECT_EQ(*msg,
            "the pause will exceed --downtime 300: at the 2.0 MiB/s that reach the destination, "
            "the 3.0 MiB in flight and the 8.0 MiB the disk mirrors are behind alone take 5500 "
            "ms; more --bandwidth (or a faster link), --write-blocking or a longer --downtime "
            "would keep it");
  EXPECT_FALSE(b.over(slow)) << "said once";
}

TEST(PauseBudget, nothing_to_say_while_the_bytes_ahead_fit) {
  PauseBudget b(300);
  EXPECT_FALSE(b.over({.queued = kMiB, .disk_behind = kMiB, .link_rate = 25 * kMiB}));
  EXPECT_FALSE(b.over({.queued = kMiB, .disk_behind = kMiB, .link_rate = 0}));
}

TEST(PauseBudget, qemu_aims_at_a_tenth_first_and_doubles_at_each_look_up_to_the_downtime) {
  PauseBudget b(300);
  EXPECT_EQ(b.first_aim_ms(), 30u);
  PauseFigures fast{.queued = 0, .disk_behind = 0, .link_rate = 600 * kMiB};
  EXPECT_EQ(b.next_aim_ms(fast), 60u);
  EXPECT_EQ(b.next_aim_ms(fast), 120u);
  EXPECT_EQ(b.next_aim_ms(fast), 240u);
  EXPECT_EQ(b.next_aim_ms(fast), 300u);
  EXPECT_EQ(b.next_aim_ms(fast), 300u);
}

TEST(PauseBudget, the_aim_never_passes_what_the_bytes_ahead_leave) {
  PauseBudget b(300);
  PauseFigures slow{.queued = kMiB, .disk_behind = kMiB, .link_rate = 25 * kMiB};
  EXPECT_EQ(b.next_aim_ms(slow), 60u);
  EXPECT_EQ(b.next_aim_ms(slow), 120u);
  EXPECT_EQ(b.next_aim_ms(slow), 140u);
  EXPECT_EQ(b.next_aim_ms(slow), 140u);
}

// The e2e test that caught it: three looks held at the floor by the mirrors'
// lag, then a caught-up mirror, and QEMU went from 40 ms to 320 at once.
TEST(PauseBudget, after_looks_held_low_the_aim_doubles_from_what_qemu_got) {
  PauseBudget b(400);
  PauseFigures lagging{.queued = kMiB, .disk_behind = 8 * kMiB, .link_rate = 4 * kMiB};
  PauseFigures caught_up{.queued = 0, .disk_behind = 0, .link_rate = 4 * kMiB};
  EXPECT_EQ(b.next_aim_ms(lagging), 40u);
  EXPECT_EQ(b.next_aim_ms(lagging), 40u);
  EXPECT_EQ(b.next_aim_ms(caught_up), 80u);
  EXPECT_EQ(b.next_aim_ms(caught_up), 160u);
}

TEST(PauseBudget, a_downtime_under_ten_ms_still_gives_qemu_one) {
  PauseBudget b(5);
  EXPECT_EQ(b.first_aim_ms(), 1u);
  EXPECT_EQ(b.next_aim_ms({.queued = 0, .disk_behind = 0, .link_rate = kMiB}), 2u);
}

}  // namespace
}  // namespace lsm::qemu

#include "qemu/convergence.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lsm::qemu {
namespace {

json::Document sample(int rounds, int expected_ms) {
  return json::parse(
      "{\"status\":\"active\",\"expected-downtime\":" + std::to_string(expected_ms) +
          ",\"ram\":{\"dirty-sync-count\":" + std::to_string(rounds) +
          ",\"dirty-pages-rate\":25600,\"page-size\":4096,\"mbps\":16.777216}}",
      "test");
}

TEST(ConvergenceWatch, says_once_when_the_pause_stays_over_the_limit_past_the_first_rounds) {
  ConvergenceWatch w(300);
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(w.feed(sample(6 + i, 5000))) << i;
  auto msg = w.feed(sample(15, 5000));
  ASSERT_TRUE(msg);
  EXPECT_EQ(*msg,
            "RAM is not converging after 15 rounds: the guest dirties 100.0 MiB/s and 2.0 MiB/s "
            "reach the destination, so QEMU expects a 5000 ms pause against --downtime 300; more "
            "--bandwidth (or a faster link), a longer --downtime or a quieter guest would let it "
            "finish");
  EXPECT_FALSE(w.feed(sample(16, 5000)));
}

TEST(ConvergenceWatch, the_first_rounds_and_a_pause_within_the_limit_are_normal) {
  ConvergenceWatch w(300);
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(w.feed(sample(5, 5000)));
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(w.feed(sample(6 + i, 250)));
}

TEST(ConvergenceWatch, a_sample_within_the_limit_starts_the_count_again) {
  ConvergenceWatch w(300);
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(w.feed(sample(6, 5000)));
  EXPECT_FALSE(w.feed(sample(7, 200)));
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(w.feed(sample(8, 5000)));
  EXPECT_TRUE(w.feed(sample(9, 5000)));
}

TEST(ConvergenceWatch, judges_against_the_limit_qemu_has_now) {
  ConvergenceWatch w(300);
  w.set_limit(140);
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(w.feed(sample(6 + i, 250))) << i;
  auto msg = w.feed(sample(15, 250));
  ASSERT_TRUE(msg);
  EXPECT_NE(msg->find("QEMU expects a 250 ms pause against the 140 ms it may take of --downtime "
                      "300 (the rest is for the bytes in flight and the disks)"),
            std::string::npos)
      << *msg;
}

TEST(ConvergenceWatch, a_reply_without_ram_figures_is_ignored) {
  ConvergenceWatch w(300);
  EXPECT_FALSE(w.feed(json::parse("{\"status\":\"setup\"}", "test")));
}

}  // namespace
}  // namespace lsm::qemu

#include "proto/progress_view.hpp"

#include <gtest/gtest.h>

#include <string>

namespace lsm::proto {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kGiB = 1 << 30;

// A progress line as the tools write it; `extra` is more members, "" for none.
std::string progress(const std::string& phase, std::uint64_t done, std::uint64_t total,
                     double rate, bool final = false, const std::string& extra = "",
                     double elapsed = 1.0) {
  return R"({"lsm":1,"type":"progress","phase":")" + phase + R"(","done":)" +
         std::to_string(done) + R"(,"total":)" + std::to_string(total) +
         R"(,"rate":)" + std::to_string(rate) + R"(,"eta":0.0,"elapsed":)" +
         std::to_string(elapsed) + R"(,"final":)" + (final ? "true" : "false") + extra + "}";
}

TEST(ProgressView, shows_nothing_before_a_phase_reports) {
  ProgressView v({.ram_bytes = 0, .downtime_ms = 300});
  EXPECT_EQ(v.line(), "");
}

TEST(ProgressView, counts_the_whole_ram_at_the_disks_rate_while_the_disks_copy) {
  ProgressView v({.ram_bytes = 2 * kGiB, .downtime_ms = 300});
  EXPECT_EQ(v.take(progress("disks", 3 * kGiB + kGiB / 5, 8 * kGiB, 410.0 * kMiB)),
            ProgressView::Took::kShown);
  // (4.8 GiB + 2 GiB) / 410 MiB/s = 16.98 s
  ASSERT_TRUE(v.eta());
  EXPECT_NEAR(*v.eta(), (4.8 * 1024 + 2048) / 410.0, 0.01);
  EXPECT_EQ(v.line(), "disks 3.2/8.0 GiB 410 MiB/s | RAM 0% | ETA 0:17 | pause <=300 ms");
}

TEST(ProgressView, the_ram_phase_counts_what_remains_at_the_rate_it_shrinks) {
  ProgressView v({.ram_bytes = 128 * kMiB, .downtime_ms = 300});
  v.take(progress("disks", 96 * kMiB, 96 * kMiB, 50.0 * kMiB, true));
  v.take(progress("ram", 20 * kMiB, 128 * kMiB, 20.0 * kMiB, false,
                  R"(,"remaining":100663296,"rounds":2,"expected_downtime_ms":42)", 1.0));
  // 96 MiB left, at the bytes on the wire until a second line says more.
  EXPECT_DOUBLE_EQ(*v.eta(), 96.0 / 20);
  // Zero pages: 32 MiB gone from remaining in a second, 20 MiB on the wire.
  EXPECT_EQ(v.take(progress("ram", 40 * kMiB, 128 * kMiB, 20.0 * kMiB, false,
                            R"(,"remaining":67108864,"rounds":2,"dirty_rate":4096,)"
                            R"("expected_downtime_ms":42)",
                            2.0)),
            ProgressView::Took::kShown);
  ASSERT_TRUE(v.eta());
  EXPECT_DOUBLE_EQ(*v.eta(), 2.0);  // 64 MiB at 32 MiB/s
  EXPECT_EQ(v.line(), "disks 96.0 MiB ready | RAM 50% 20 MiB/s round 2 | ETA 0:02 | pause ~42 ms");
}

TEST(ProgressView, a_new_round_that_makes_remaining_grow_keeps_the_rate_it_shrank_by) {
  ProgressView v({});
  v.take(progress("ram", 0, 64 * kMiB, kMiB, false, R"(,"remaining":67108864)", 1.0));
  v.take(progress("ram", 0, 64 * kMiB, kMiB, false, R"(,"remaining":33554432)", 2.0));
  v.take(progress("ram", 0, 64 * kMiB, kMiB, false, R"(,"remaining":50331648)", 3.0));
  EXPECT_DOUBLE_EQ(*v.eta(), 48.0 / 32);
  // Then smoothed: half the old rate, half the new one.
  v.take(progress("ram", 0, 64 * kMiB, kMiB, false, R"(,"remaining":33554432)", 4.0));
  EXPECT_DOUBLE_EQ(*v.eta(), 32.0 / 24);
}

TEST(ProgressView, without_remaining_the_ram_goes_at_its_own_rate_then_the_disks_rate) {
  ProgressView v({.ram_bytes = 0, .downtime_ms = 0});
  v.take(progress("disks", kGiB, kGiB, 100.0 * kMiB, true));
  v.take(progress("ram", 0, 100 * kMiB, 0));
  ASSERT_TRUE(v.eta());
  EXPECT_DOUBLE_EQ(*v.eta(), 1.0);  // all of it at the disks' 100 MiB/s
  v.take(progress("ram", 50 * kMiB, 100 * kMiB, 25.0 * kMiB));
  EXPECT_DOUBLE_EQ(*v.eta(), 2.0);  // the other half at 25 MiB/s
  EXPECT_EQ(v.line(), "disks 1.0 GiB ready | RAM 50% 25 MiB/s | ETA 0:02");
}

TEST(ProgressView, the_eta_is_unknown_until_a_rate_is_measured) {
  ProgressView v({.ram_bytes = 64 * kMiB, .downtime_ms = 300});
  v.take(progress("disks", 0, 8 * kGiB, 0));
  EXPECT_FALSE(v.eta());
  EXPECT_EQ(v.line(), "disks 0.0/8.0 GiB | RAM 0% | ETA -:-- | pause <=300 ms");
}

TEST(ProgressView, qemus_pause_shows_once_it_is_under_the_limit) {
  ProgressView v({.ram_bytes = 0, .downtime_ms = 300});
  // Before it has measured the guest, QEMU says the limit itself; early
  // on, a pause it would never switch over with.
  for (const char* ms : {"300", "5000"}) {
    v.take(progress("ram", kMiB, 64 * kMiB, kMiB, false,
                    std::string(R"(,"expected_downtime_ms":)") + ms));
    EXPECT_EQ(v.line(), "RAM 1% 1.0 MiB/s | ETA 1:03 | pause <=300 ms") << ms;
  }
  v.take(progress("ram", kMiB, 64 * kMiB, kMiB, false, R"(,"expected_downtime_ms":40)"));
  EXPECT_EQ(v.line(), "RAM 1% 1.0 MiB/s | ETA 1:03 | pause ~40 ms");
}

TEST(ProgressView, without_a_limit_qemus_pause_shows_as_it_is) {
  ProgressView v({});
  v.take(progress("ram", kMiB, 64 * kMiB, kMiB, false, R"(,"expected_downtime_ms":5000)"));
  EXPECT_EQ(v.line(), "RAM 1% 1.0 MiB/s | ETA 1:03 | pause ~5000 ms");
}

TEST(ProgressView, a_switched_over_ram_phase_leaves_nothing_to_wait_for) {
  ProgressView v({.ram_bytes = 128 * kMiB, .downtime_ms = 300});
  v.take(progress("disks", 32 * kMiB, 32 * kMiB, 10.0 * kMiB, true));
  v.take(progress("ram", 9 * kMiB, 9 * kMiB, 30.0 * kMiB, true,
                  R"(,"remaining":0,"rounds":3,"expected_downtime_ms":12)"));
  EXPECT_EQ(v.eta(), 0.0);
  EXPECT_EQ(v.line(), "disks 32.0 MiB ready | RAM 100% | ETA 0:00 | pause ~12 ms");
}

TEST(ProgressView, the_destinations_lines_are_taken_but_not_shown) {
  ProgressView v({.ram_bytes = 0, .downtime_ms = 300});
  EXPECT_EQ(v.take(progress("ram received", 5 * kMiB, 0, kMiB)), ProgressView::Took::kIgnored);
  EXPECT_EQ(v.line(), "");
}

TEST(ProgressView, every_other_line_is_not_progress) {
  ProgressView v({});
  for (const char* line :
       {"lsm-mirror: error: drive0: target is gone", "", "{not json",
        R"({"lsm":1,"type":"result","phase":"ram","ok":true})",
        R"({"lsm":2,"type":"progress","phase":"disks","done":1,"total":2})",
        R"({"lsm":1,"type":"progress","phase":"disks","done":"1","total":2})"})
    EXPECT_EQ(v.take(line), ProgressView::Took::kNotProgress) << line;
}

TEST(ProgressView, a_line_ending_in_cr_lf_is_still_progress) {
  ProgressView v({});
  EXPECT_EQ(v.take(progress("disks", 1, 2, 1) + "\r"), ProgressView::Took::kShown);
}

TEST(FormatEta, minutes_then_hours_rounded_up_and_bounded) {
  EXPECT_EQ(format_eta(0), "0:00");
  EXPECT_EQ(format_eta(0.2), "0:01");
  EXPECT_EQ(format_eta(74), "1:14");
  EXPECT_EQ(format_eta(3600 + 62), "1:01:02");
  EXPECT_EQ(format_eta(1e30), "99:59:59");
  EXPECT_EQ(format_eta(-5), "0:00");
}

}  // namespace
}  // namespace lsm::proto

#include "qemu/ram_figures.hpp"

#include <gtest/gtest.h>

namespace lsm::qemu {
namespace {

// A query-migrate reply of QEMU 7.2 in its second round, trimmed.
constexpr const char* kActive =
    R"({"status":"active","expected-downtime":42,"setup-time":3,"total-time":2210,
        "ram":{"transferred":52428800,"remaining":8388608,"total":134217728,
               "duplicate":20000,"normal":12800,"normal-bytes":52428800,
               "dirty-pages-rate":256,"mbps":167.77216,"dirty-sync-count":2,
               "page-size":4096,"pages-per-second":16384}})";

TEST(RamFigures, reads_the_bytes_rounds_and_rates_of_an_active_migration) {
  auto f = ram_figures(json::parse(kActive, "test"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->transferred, 52428800u);
  EXPECT_EQ(f->total, 134217728u);
  EXPECT_EQ(f->remaining, 8388608u);
  EXPECT_EQ(f->rounds, 2u);
  EXPECT_EQ(f->dirty_rate, 256u * 4096);
  EXPECT_EQ(f->link_rate, 20971520u);
  EXPECT_EQ(f->expected_downtime_ms, 42u);
}

TEST(RamFigures, a_reply_before_setup_has_none) {
  EXPECT_FALSE(ram_figures(json::parse(R"({"status":"setup"})", "test")));
}

TEST(RamFigures, missing_figures_read_zero_and_no_expected_pause) {
  auto f = ram_figures(json::parse(R"({"status":"completed","ram":{"total":1048576}})", "test"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->total, 1048576u);
  EXPECT_EQ(f->remaining, 0u);
  EXPECT_EQ(f->dirty_rate, 0u);
  EXPECT_FALSE(f->expected_downtime_ms);
}

}  // namespace
}  // namespace lsm::qemu

#include "mirror/jobs.hpp"

#include <gtest/gtest.h>

namespace lsm::mirror {

TEST(DescribeJob, names_the_disk_a_job_copies) {
  EXPECT_EQ(describe_job({"disk0", "disk1"}, "lsm-mirror-1"), "disk disk1 (mirror job lsm-mirror-1)");
}

TEST(DescribeJob, a_job_that_is_not_one_of_the_disks_keeps_its_id) {
  EXPECT_EQ(describe_job({"disk0"}, "lsm-mirror-1"), "mirror job lsm-mirror-1");
  EXPECT_EQ(describe_job({"disk0"}, "lsm-mirror-x"), "mirror job lsm-mirror-x");
  EXPECT_EQ(describe_job({"disk0"}, "lsm-mirror-99999999999"), "mirror job lsm-mirror-99999999999");
  EXPECT_EQ(describe_job({"disk0"}, "backup0"), "mirror job backup0");
}

}  // namespace lsm::mirror

#include "storage/lvm.hpp"

#include <gtest/gtest.h>

namespace lsm::storage {
namespace {

TEST(Lvm, a_path_dev_vg_lv_names_a_volume) {
  auto v = volume_at("/dev/vg0/web1-disk.0");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->vg, "vg0");
  EXPECT_EQ(v->lv, "web1-disk.0");
  EXPECT_EQ(v->name(), "vg0/web1-disk.0");
  EXPECT_EQ(v->path(), "/dev/vg0/web1-disk.0");
}

TEST(Lvm, other_paths_name_no_volume) {
  for (const char* p :
       {"/var/lib/xen/images/a.raw", "/dev/sda", "/dev/mapper/vg0-lv", "/dev/disk/by-id/x",
        "/dev/vg0/lv/extra", "/dev/vg0/", "/dev//lv", "/dev/vg0/..", "/dev/../etc",
        "/dev/-vg/lv", "/dev/vg0/-lv", "/dev/vg0/lv name", "dev/vg0/lv", "/dev/vg$/lv"})
    EXPECT_FALSE(volume_at(p)) << p;
}

}  // namespace
}  // namespace lsm::storage

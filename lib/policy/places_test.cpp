#include "policy/places.hpp"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "testing/expect_throw.hpp"
#include "testing/temp_dir.hpp"

namespace lsm::policy {
namespace {

using testing::expect_throw;

TEST(Places, a_volume_group_must_be_one_of_the_policys) {
  Policy p = defaults();
  EXPECT_EQ(expect_throw<Error>([&] { check_volume_group("vg0", p); }),
            "volume group vg0 is not one this host lets migrations create volumes in "
            "(volume_groups in the host policy, built-in defaults)");
  p.volume_groups = {"vg1", "vg0"};
  EXPECT_NO_THROW(check_volume_group("vg0", p));
  EXPECT_THROW(check_volume_group("vg", p), Error);
}

TEST(Places, inside_compares_whole_components_of_normal_paths) {
  EXPECT_TRUE(inside("/srv/vm/a.img", "/srv/vm"));
  EXPECT_TRUE(inside("/srv/vm", "/srv/vm"));
  EXPECT_TRUE(inside("/anything", "/"));
  EXPECT_TRUE(inside("/run/lsm/qemu/vm.pid", "/run/lsm/"));
  EXPECT_FALSE(inside("/srv/vmx/a.img", "/srv/vm"));
  EXPECT_FALSE(inside("/srv/vm/../etc/passwd", "/srv/vm"));
  EXPECT_FALSE(inside("/srv/vm/./a.img", "/srv/vm"));
  EXPECT_FALSE(inside("/srv/vm//a.img", "/srv/vm"));
  EXPECT_FALSE(inside("srv/vm/a.img", "/srv/vm"));
  EXPECT_FALSE(inside("", "/"));
}

class CheckImage : public ::testing::Test {
 protected:
  CheckImage() {
    ::mkdir(root_.c_str(), 0700);
    p_.image_roots = {root_};
    p_.origin = "t.conf";
  }
  std::string refused(const std::string& path) {
    return expect_throw<Error>([&] { check_image(path, p_); });
  }
  lsm::testing::TempDir dir_{"places_test"};
  std::string root_ = dir_.path() + "/images";
  Policy p_ = defaults();
};

TEST_F(CheckImage, a_new_file_in_a_root_is_allowed) {
  EXPECT_NO_THROW(check_image(root_ + "/a.raw", p_));
}

TEST_F(CheckImage, outside_the_roots_relative_or_dotted_paths_are_refused) {
  EXPECT_NE(refused(dir_.path() + "/a.raw").find("outside the image roots (image_roots in the host policy, t.conf)"),
            std::string::npos);
  EXPECT_NE(refused("a.raw").find("not absolute"), std::string::npos);
  EXPECT_NE(refused(root_ + "/../a.raw").find("'..'"), std::string::npos);
  EXPECT_NE(refused(root_).find("outside the image roots"), std::string::npos);
}

TEST_F(CheckImage, a_symbolic_link_on_the_way_or_at_the_file_is_refused) {
  ASSERT_EQ(::symlink("/etc", (root_ + "/etc").c_str()), 0);
  EXPECT_NE(refused(root_ + "/etc/a.raw").find("is really /etc"), std::string::npos);
  ASSERT_EQ(::symlink("/etc/passwd", (root_ + "/b.raw").c_str()), 0);
  EXPECT_NE(refused(root_ + "/b.raw").find("is a symbolic link"), std::string::npos);
}

TEST_F(CheckImage, a_missing_directory_says_so) {
  EXPECT_NE(refused(root_ + "/no/a.raw").find("target directory " + root_ + "/no does not exist"),
            std::string::npos);
}

}  // namespace
}  // namespace lsm::policy

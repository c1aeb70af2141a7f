#include "core/private_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "testing/expect_throw.hpp"
#include "testing/temp_dir.hpp"

namespace lsm {
namespace {

using lsm::testing::expect_throw;
using lsm::testing::TempDir;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(EnsurePrivateDir, creates_a_missing_directory_0700) {
  TempDir t("lsm-dir");
  ensure_private_dir(t.path() + "/lsm");
  EXPECT_EQ(mode_of(t.path() + "/lsm"), 0700u);
}

TEST(EnsurePrivateDir, accepts_an_existing_directory_of_ours_not_writable_by_others) {
  TempDir t("lsm-dir");
  std::string dir = t.path() + "/qemu";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ::chmod(dir.c_str(), 0755);
  ensure_private_dir(dir);
  EXPECT_EQ(mode_of(dir), 0755u);
}

TEST(EnsurePrivateDir, refuses_a_world_writable_directory_naming_it_and_the_fix) {
  TempDir t("lsm-dir");
  std::string dir = t.path() + "/lsm";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ::chmod(dir.c_str(), 01777);
  auto msg = expect_throw<Error>([&] { ensure_private_dir(dir); });
  EXPECT_NE(msg.find("run directory " + dir + " is writable by group or others (mode 1777)"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("chmod go-w " + dir), std::string::npos) << msg;
}

TEST(EnsurePrivateDir, refuses_a_symlink) {
  TempDir t("lsm-dir");
  std::string dir = t.path() + "/lsm";
  ASSERT_EQ(::symlink(t.path().c_str(), dir.c_str()), 0);
  auto msg = expect_throw<Error>([&] { ensure_private_dir(dir); });
  EXPECT_NE(msg.find(dir + " is a symbolic link"), std::string::npos) << msg;
}

TEST(EnsurePrivateDir, refuses_a_directory_of_another_user) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  TempDir t("lsm-dir");
  std::string dir = t.path() + "/lsm";
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  auto msg = expect_throw<Error>([&] { ensure_private_dir(dir); });
  EXPECT_NE(msg.find(dir + " belongs to uid 65534"), std::string::npos) << msg;
}

}  // namespace
}  // namespace lsm

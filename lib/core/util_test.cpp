#include "core/util.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "testing/temp_dir.hpp"

namespace lsm {
namespace {

using lsm::testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST(WriteFileAtomically, writes_mode_0600) {
  TempDir t("lsm-util");
  write_file_atomically(t.path() + "/f", "new\n");
  EXPECT_EQ(slurp(t.path() + "/f"), "new\n");
  EXPECT_EQ(mode_of(t.path() + "/f") & 07777, 0600u);
}

TEST(WriteFileAtomically, never_writes_through_a_symlink_planted_at_its_temporary) {
  TempDir t("lsm-util");
  std::string victim = t.path() + "/victim", path = t.path() + "/state.json";
  write(victim, "precious");
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  write_file_atomically(path, "state\n");
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_EQ(slurp(path), "state\n");
  EXPECT_TRUE(S_ISREG(mode_of(path)));
}

TEST(CreateFileDurably, refuses_a_symlink_at_its_path) {
  TempDir t("lsm-util");
  std::string victim = t.path() + "/victim", path = t.path() + "/marker";
  ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);
  try {
    create_file_durably(path, "x");
    ADD_FAILURE() << "created through a symlink";
  } catch (const SystemError& e) {
    EXPECT_EQ(e.code(), EEXIST);
  }
  EXPECT_FALSE(path_exists(victim));
}

TEST(CreatePrivateFile, replaces_a_leftover_file_and_is_0600) {
  TempDir t("lsm-util");
  std::string path = t.path() + "/dm-state";
  write(path, "old");
  ::chmod(path.c_str(), 0644);
  UniqueFd fd = create_private_file(path);
  EXPECT_TRUE(fd);
  EXPECT_EQ(slurp(path), "");
  EXPECT_EQ(mode_of(path) & 07777, 0600u);
}

TEST(OpenPrivateLog, refuses_a_symlink) {
  TempDir t("lsm-util");
  std::string victim = t.path() + "/victim", log = t.path() + "/qemu.log";
  write(victim, "precious");
  ASSERT_EQ(::symlink(victim.c_str(), log.c_str()), 0);
  EXPECT_THROW(open_private_log(log), SystemError);
  EXPECT_EQ(slurp(victim), "precious");
}

}  // namespace
}  // namespace lsm

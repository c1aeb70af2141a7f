#include "vm/state_file.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>

#include "testing/expect_throw.hpp"
#include "testing/temp_dir.hpp"

namespace lsm::vm {
namespace {

using lsm::testing::expect_throw;
using lsm::testing::TempDir;

TEST(ReadStateFile, none_is_nullopt) {
  TempDir t("lsm-state");
  EXPECT_FALSE(read_state_file(t.path() + "/vm.state.json"));
}

TEST(ReadStateFile, reads_the_json_line) {
  TempDir t("lsm-state");
  std::ofstream(t.path() + "/vm.state.json") << "{\"go\":true}\n";
  auto d = read_state_file(t.path() + "/vm.state.json");
  ASSERT_TRUE(d);
  EXPECT_TRUE(json::bool_at(*d, "go", ""));
}

TEST(ReadStateFile, refuses_a_symlink_naming_it) {
  TempDir t("lsm-state");
  std::string real = t.path() + "/elsewhere", link = t.path() + "/vm.state.json";
  std::ofstream(real) << "{}\n";
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  auto msg = expect_throw<Error>([&] { read_state_file(link); });
  EXPECT_NE(msg.find(link + " is a symbolic link"), std::string::npos) << msg;
}

}  // namespace
}  // namespace lsm::vm

#include "qemu/options.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace lsm::qemu {
namespace {

using Argv = std::vector<std::string>;

TEST(Options, flags_take_no_value_and_others_take_the_next_argument) {
  Cmdline c = parse_cmdline({"qemu", "-S", "-m", "64", "--nodefaults", "-name", "-S"});
  ASSERT_EQ(c.options.size(), 4u);
  EXPECT_FALSE(c.options[0].value);
  EXPECT_EQ(c.options[1].name, "m");
  EXPECT_EQ(*c.options[1].value, "64");
  EXPECT_EQ(c.options[2].name, "nodefaults");
  // A value that looks like an option is still the value, as QEMU reads it.
  EXPECT_EQ(*c.options[3].value, "-S");
}

TEST(Options, rebuilds_the_argv_it_parsed) {
  Argv argv{"qemu", "-S", "-drive", "file=/a,,b,if=none", "-nodefaults"};
  EXPECT_EQ(to_argv(parse_cmdline(argv)), argv);
}

TEST(Options, refuses_a_stray_argument_and_a_missing_value) {
  EXPECT_THROW(parse_cmdline({"qemu", "disk.img"}), Error);
  EXPECT_THROW(parse_cmdline({"qemu", "-m"}), Error);
  EXPECT_THROW(parse_cmdline({}), Error);
}

TEST(Options, splits_suboptions_with_doubled_commas_inside_values) {
  auto s = split_suboptions("file,id=c0,path=/run/a,,b,logfile=");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].key, "");
  EXPECT_EQ(s[0].value, "file");
  EXPECT_EQ(s[2].key, "path");
  EXPECT_EQ(s[2].value, "/run/a,b");
  EXPECT_EQ(s[3].key, "logfile");
  EXPECT_EQ(s[3].value, "");
}

}  // namespace
}  // namespace lsm::qemu

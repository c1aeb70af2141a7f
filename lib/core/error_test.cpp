#include "core/error.hpp"

#include <gtest/gtest.h>

namespace lsm {
namespace {

TEST(Error, describe_joins_nested_context) {
  try {
    with_context("mirroring disk0", [] {
      with_context("blockdev-mirror", [] { throw Error("GenericError: no space"); });
    });
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_EQ(describe(e), "mirroring disk0: blockdev-mirror: GenericError: no space");
    EXPECT_EQ(exit_status_for(e), kExitFailed);
  }
}

TEST(Error, indeterminate_anywhere_in_the_chain_wins) {
  try {
    with_context("resume", [] { throw IndeterminateError("both hosts paused"); });
  } catch (const std::exception& e) {
    EXPECT_EQ(exit_status_for(e), kExitIndeterminate);
  }
}

TEST(Error, usage_error_exits_2) {
  EXPECT_EQ(exit_status_for(UsageError("bad --map")), kExitUsage);
}

TEST(Error, system_error_carries_errno_text) {
  SystemError e("open /x", ENOENT);
  EXPECT_EQ(std::string(e.what()), "open /x: No such file or directory");
  EXPECT_EQ(e.code(), ENOENT);
}

}  // namespace
}  // namespace lsm

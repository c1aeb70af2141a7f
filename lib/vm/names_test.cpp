#include "vm/names.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace lsm::vm {
namespace {

TEST(Names, accepts_ordinary_domain_names) {
  EXPECT_NO_THROW(validate_name("web-01.prod_a"));
}

TEST(Names, rejects_names_that_would_escape_a_directory) {
  for (const char* bad : {"", "..", "../etc", "a/b", ".hidden", "-rf", "sp ace", "x\n"})
    EXPECT_THROW(validate_name(bad), UsageError) << bad;
  EXPECT_THROW(validate_name(std::string(65, 'a')), UsageError);
}

}  // namespace
}  // namespace lsm::vm

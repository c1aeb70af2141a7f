#include "json/json.hpp"

#include <gtest/gtest.h>

#include <string>

#include "testing/expect_throw.hpp"

namespace lsm::json {
namespace {

using lsm::testing::expect_throw;

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonParse, accepts_nesting_up_to_the_limit) {
  Document d = parse(nested(kMaxDepth), "test");
  EXPECT_TRUE(d.IsArray());
}

TEST(JsonParse, refuses_nesting_one_past_the_limit) {
  auto msg = expect_throw<JsonError>([] { parse(nested(kMaxDepth + 1), "test"); });
  EXPECT_NE(msg.find("test: JSON nested deeper than 128 levels"), std::string::npos) << msg;
}

TEST(JsonParse, refuses_half_a_million_open_brackets_without_crashing) {
  auto msg = expect_throw<JsonError>([] { parse(std::string(500000, '['), "line"); });
  EXPECT_NE(msg.find("nested deeper"), std::string::npos) << msg;
}

TEST(JsonParse, refuses_deep_objects_too) {
  std::string text;
  for (unsigned i = 0; i <= kMaxDepth; ++i) text += "{\"a\":";
  text += "1" + std::string(kMaxDepth + 1, '}');
  auto msg = expect_throw<JsonError>([&] { parse(text, "test"); });
  EXPECT_NE(msg.find("nested deeper"), std::string::npos) << msg;
}

TEST(JsonParse, names_the_byte_of_a_syntax_error) {
  auto msg = expect_throw<JsonError>([] { parse("{\"a\":}", "reply"); });
  EXPECT_NE(msg.find("reply: not valid JSON at byte 5"), std::string::npos) << msg;
}

TEST(JsonParse, refuses_trailing_garbage_and_bad_utf8) {
  expect_throw<JsonError>([] { parse("{} x", "t"); });
  expect_throw<JsonError>([] { parse("\"\xff\"", "t"); });
}

TEST(JsonParse, keeps_values_of_every_type) {
  Document d = parse(R"({"s":"x","n":18446744073709551615,"b":true,"a":[null,-1,1.5]})", "t");
  EXPECT_EQ(string_at(d, "s", ""), "x");
  EXPECT_EQ(u64_at(d, "n", ""), 18446744073709551615ull);
  EXPECT_TRUE(bool_at(d, "b", ""));
  EXPECT_EQ(to_string(d), R"({"s":"x","n":18446744073709551615,"b":true,"a":[null,-1,1.5]})");
}

}  // namespace
}  // namespace lsm::json

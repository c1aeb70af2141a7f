#include "proto/message.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <ostream>
#include <string_view>
#include <thread>

#include "core/unique_fd.hpp"
#include "testing/expect_throw.hpp"

namespace lsm::proto {
namespace {

using lsm::testing::expect_throw;

Message exports_message() {
  Message m = make_message("exports");
  auto& a = m.doc.GetAllocator();
  json::add(m.doc, "socket", "/run/lsm/vm.nbd", a);
  json::add(m.doc, "exports", json::Value(rapidjson::kArrayType), a);
  return m;
}

TEST(Message, encode_decode_round_trip) {
  Message m = exports_message();
  Message back = decode(encode(m), "test");
  EXPECT_EQ(back.type, "exports");
  EXPECT_STREQ(back.doc["socket"].GetString(), "/run/lsm/vm.nbd");
}

TEST(Message, encode_refuses_a_message_missing_a_field) {
  Message m = make_message("exports");
  EXPECT_THROW(encode(m), ProtocolError);
}

// A line decode() refuses, and what its error must say.
struct Refusal {
  const char* name;
  std::string_view line;
  const char* error;
};

void PrintTo(const Refusal& r, std::ostream* os) {
  *os << ::testing::PrintToString(std::string(r.line));
}

const Refusal kRefusals[] = {
    {"wrong_version_is_named", R"({"lsm": 2, "type": "exports", "socket": "s", "exports": []})",
     "unsupported protocol version 2"},
    {"missing_version_is_not_an_lsm_message", R"({"type": "exports"})", "not an lsm message"},
    {"unknown_type_is_named", R"({"lsm": 1, "type": "teleport"})",
     "unknown message type \"teleport\""},
    {"missing_field_is_named", R"({"lsm": 1, "type": "exports", "socket": "s"})",
     "lacks field \"exports\""},
    {"field_of_wrong_type_is_named", R"({"lsm": 1, "type": "exports", "socket": 5, "exports": []})",
     "\"socket\" is not a string"},
    {"binary_garbage_is_refused", std::string_view("\x7f" "ELF\x02\x01\x01\x00", 8), "binary data"},
    {"trailing_garbage_is_refused",
     R"({"lsm": 1, "type": "exports", "socket": "s", "exports": []} x)", "not valid JSON"},
    {"non_object_is_refused", "[1, 2]", "not a JSON object"},
};

class Decode : public ::testing::TestWithParam<Refusal> {};

TEST_P(Decode, refuses_and_names_the_problem) {
  auto e = expect_throw<ProtocolError>([] { decode(GetParam().line, "test stream"); });
  EXPECT_NE(e.find(GetParam().error), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Message, Decode, ::testing::ValuesIn(kRefusals),
                         [](const auto& info) { return std::string(info.param.name); });

class Pipe : public ::testing::Test {
 protected:
  void SetUp() override {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    r_.reset(p[0]);
    w_.reset(p[1]);
  }
  // What reading the expected message from the pipe threw.
  std::string read_error(const std::string& expected) {
    FdReader in(r_.get(), "pipe");
    MessageReader reader(in);
    return expect_throw<ProtocolError>([&] { reader.read(expected); });
  }
  UniqueFd r_, w_;
};

TEST_F(Pipe, reader_checks_the_expected_type) {
  write_message(w_.get(), exports_message(), "pipe");
  EXPECT_NE(read_error("vm").find("expected a vm message, got exports"), std::string::npos);
}

TEST_F(Pipe, over_long_line_is_refused) {
  std::thread writer([&] {
    try {
      write_all(w_.get(), std::string(kMaxLine + 10, 'a'), "pipe");
    } catch (const Error&) {
      // reader closed early
    }
    w_.reset();
  });
  EXPECT_NE(read_error("vm").find("line longer than"), std::string::npos);
  r_.reset();
  writer.join();
}

TEST_F(Pipe, end_of_stream_says_which_message_was_expected) {
  w_.reset();
  EXPECT_NE(read_error("prepared").find("prepared message"), std::string::npos);
}

}  // namespace
}  // namespace lsm::proto

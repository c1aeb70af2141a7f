#include "proto/message.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"

namespace lsm::proto {
namespace {

std::string decode_error(std::string_view line) {
  try {
    decode(line, "test stream");
  } catch (const ProtocolError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << line;
  return {};
}

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

TEST(Message, wrong_version_is_named) {
  auto e = decode_error(R"({"lsm": 2, "type": "exports", "socket": "s", "exports": []})");
  EXPECT_NE(e.find("unsupported protocol version 2"), std::string::npos);
}

TEST(Message, missing_version_is_not_an_lsm_message) {
  auto e = decode_error(R"({"type": "exports"})");
  EXPECT_NE(e.find("not an lsm message"), std::string::npos);
}

TEST(Message, unknown_type_is_named) {
  auto e = decode_error(R"({"lsm": 1, "type": "teleport"})");
  EXPECT_NE(e.find("unknown message type \"teleport\""), std::string::npos);
}

TEST(Message, missing_field_is_named) {
  auto e = decode_error(R"({"lsm": 1, "type": "exports", "socket": "s"})");
  EXPECT_NE(e.find("lacks field \"exports\""), std::string::npos);
}

TEST(Message, field_of_wrong_type_is_named) {
  auto e = decode_error(R"({"lsm": 1, "type": "exports", "socket": 5, "exports": []})");
  EXPECT_NE(e.find("\"socket\" is not a string"), std::string::npos);
}

TEST(Message, binary_garbage_is_refused) {
  auto e = decode_error(std::string("\x7f" "ELF\x02\x01\x01\x00", 8));
  EXPECT_NE(e.find("binary data"), std::string::npos);
}

TEST(Message, trailing_garbage_is_refused) {
  auto e = decode_error(R"({"lsm": 1, "type": "exports", "socket": "s", "exports": []} x)");
  EXPECT_NE(e.find("not valid JSON"), std::string::npos);
}

TEST(Message, non_object_is_refused) {
  auto e = decode_error("[1, 2]");
  EXPECT_NE(e.find("not a JSON object"), std::string::npos);
}

class Pipe : public ::testing::Test {
 protected:
  void SetUp() override {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    r_.reset(p[0]);
    w_.reset(p[1]);
  }
  UniqueFd r_, w_;
};

TEST_F(Pipe, reader_checks_the_expected_type) {
  write_message(w_.get(), exports_message(), "pipe");
  FdReader in(r_.get(), "pipe");
  MessageReader reader(in);
  try {
    reader.read("vm");
    FAIL();
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("expected a vm message, got exports"),
              std::string::npos);
  }
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
  FdReader in(r_.get(), "pipe");
  MessageReader reader(in);
  try {
    reader.read("vm");
    FAIL();
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("line longer than"), std::string::npos);
  }
  r_.reset();
  writer.join();
}

TEST_F(Pipe, end_of_stream_says_which_message_was_expected) {
  w_.reset();
  FdReader in(r_.get(), "pipe");
  MessageReader reader(in);
  try {
    reader.read("prepared");
    FAIL();
  } catch (const ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("prepared message"), std::string::npos);
  }
}

}  // namespace
}  // namespace lsm::proto

// The QMP client against a scripted peer that misbehaves on purpose.
#include "qmp/client.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ostream>
#include <thread>

#include "testing/expect_throw.hpp"
#include "testing/fake_peer.hpp"

using lsm::testing::expect_throw;
using lsm::testing::FakePeer;
using namespace std::chrono_literals;

namespace lsm::qmp {
namespace {

Client connect_to(FakePeer& peer, milliseconds timeout = 2000ms) {
  return Client(peer.take_client_end(), "fake QMP peer", timeout);
}

TEST(QmpClient, execute_returns_return_member) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    std::string cmd = FakePeer::read_line(fd);
    FakePeer::send(fd, R"({"return": {"status": "running"}, "id": ")" +
                           FakePeer::id_of(cmd) + "\"}\n");
  });
  Client c = connect_to(peer);
  auto r = c.execute("query-status");
  EXPECT_STREQ(r["status"].GetString(), "running");
  EXPECT_EQ(c.qemu_version(), "7.2.0");
}

TEST(QmpClient, execute_error_carries_class_and_desc) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    std::string cmd = FakePeer::read_line(fd);
    FakePeer::send(fd, R"({"error": {"class": "DeviceNotFound", "desc": "no drive0"}, "id": ")" +
                           FakePeer::id_of(cmd) + "\"}\n");
  });
  Client c = connect_to(peer);
  try {
    c.execute("block-job-cancel");
    FAIL();
  } catch (const ExecuteError& e) {
    EXPECT_EQ(e.command(), "block-job-cancel");
    EXPECT_EQ(e.error_class(), "DeviceNotFound");
    EXPECT_EQ(e.desc(), "no drive0");
  }
}

TEST(QmpClient, events_during_a_command_are_queued_in_order) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    std::string cmd = FakePeer::read_line(fd);
    FakePeer::send(fd, R"({"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 5}})" "\n"
                       R"({"event": "BLOCK_JOB_READY", "data": {"device": "d1"}})" "\n"
                       R"({"event": "BLOCK_JOB_READY", "data": {"device": "d2"}})" "\n"
                       R"({"return": {}, "id": ")" + FakePeer::id_of(cmd) + "\"}\n");
  });
  Client c = connect_to(peer);
  c.execute("stop");
  Event d2 = c.wait_event("BLOCK_JOB_READY", 0ms, [](const Event& e) {
    return std::string(e.data()["device"].GetString()) == "d2";
  });
  EXPECT_STREQ(d2.data()["device"].GetString(), "d2");
  Event stop = c.wait_event("STOP", 0ms);
  EXPECT_DOUBLE_EQ(stop.timestamp(), 1.000005);
  auto rest = c.take_events();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_STREQ(rest[0].data()["device"].GetString(), "d1");
}

TEST(QmpClient, wait_event_reads_events_arriving_later) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    std::this_thread::sleep_for(50ms);
    FakePeer::send(fd, R"({"event": "RESUME"})" "\n");
  });
  Client c = connect_to(peer);
  EXPECT_EQ(c.wait_event("RESUME", 2000ms).name, "RESUME");
}

TEST(QmpClient, wait_event_times_out_with_event_name) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    FakePeer::read_line(fd);
  });
  Client c = connect_to(peer);
  auto msg = expect_throw<TimeoutError>([&] { c.wait_event("BLOCK_JOB_COMPLETED", 100ms); });
  EXPECT_NE(msg.find("BLOCK_JOB_COMPLETED"), std::string::npos);
  EXPECT_FALSE(c.next_event("BLOCK_JOB_COMPLETED", 10ms).has_value());
}

TEST(QmpClient, garbage_instead_of_greeting_is_a_protocol_error) {
  FakePeer peer([](int fd) { FakePeer::send(fd, "SSH-2.0-OpenSSH_9.2\r\n"); });
  auto msg = expect_throw<ProtocolError>([&] { connect_to(peer); });
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos);
}

TEST(QmpClient, json_that_is_not_a_greeting_is_rejected) {
  FakePeer peer([](int fd) { FakePeer::send(fd, "{\"hello\": 1}\n"); });
  auto msg = expect_throw<ProtocolError>([&] { connect_to(peer); });
  EXPECT_NE(msg.find("expected a QMP greeting"), std::string::npos);
}

TEST(QmpClient, garbage_reply_spoils_the_session) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    FakePeer::read_line(fd);
    FakePeer::send(fd, "\x01\x02\xff garbage\n");
    FakePeer::read_line(fd);
  });
  Client c = connect_to(peer);
  expect_throw<ProtocolError>([&] { c.execute("query-status"); });
  auto msg = expect_throw<DisconnectedError>([&] { c.execute("query-status"); });
  EXPECT_NE(msg.find("unusable"), std::string::npos);
}

// The peer greets and reads the command, then spoils the reply: execute()
// must throw E, not hang, and its message must contain `error`.
struct Spoiled {
  const char* name;
  void (*after_command)(int fd);
  const char* command;
  milliseconds timeout;
  std::string (*execute_error)(Client& c, const char* command, milliseconds timeout);
  const char* error;
};

void PrintTo(const Spoiled& s, std::ostream* os) { *os << s.name; }

template <typename E>
std::string execute_error(Client& c, const char* command, milliseconds timeout) {
  return expect_throw<E>([&] { c.execute(command, nullptr, timeout); });
}

const Spoiled kSpoiledReplies[] = {
    {"truncated_json_then_close_is_an_error_not_a_hang",
     [](int fd) {
       FakePeer::send(fd, R"({"return": {"sta)");
       ::shutdown(fd, SHUT_WR);
     },
     "query-status", 2000ms, execute_error<QmpError>, "middle of a line"},
    {"socket_closed_mid_reply_is_disconnected", [](int fd) { ::shutdown(fd, SHUT_RDWR); },
     "migrate", 2000ms, execute_error<DisconnectedError>, "while waiting for migrate"},
    {"megabyte_line_is_refused_within_the_limit",
     [](int fd) { FakePeer::send(fd, R"({"return": ")" + std::string(6 * 1024 * 1024, 'x')); },
     "query-named-block-nodes", 5000ms, execute_error<QmpError>, "line longer than"},
};

class SpoiledReply : public ::testing::TestWithParam<Spoiled> {};

TEST_P(SpoiledReply, execute_throws_and_says_why) {
  const Spoiled& s = GetParam();
  FakePeer peer([&s](int fd) {
    FakePeer::negotiate(fd);
    FakePeer::read_line(fd);
    s.after_command(fd);
  });
  Client c = connect_to(peer);
  EXPECT_NE(s.execute_error(c, s.command, s.timeout).find(s.error), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(QmpClient, SpoiledReply, ::testing::ValuesIn(kSpoiledReplies),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(QmpClient, reply_of_megabytes_under_the_limit_is_accepted) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    std::string cmd = FakePeer::read_line(fd);
    FakePeer::send(fd, R"({"return": ")" + std::string(2 * 1024 * 1024, 'y') +
                           R"(", "id": ")" + FakePeer::id_of(cmd) + "\"}\n");
  });
  Client c = connect_to(peer);
  EXPECT_EQ(c.execute("x", nullptr, 5000ms).GetStringLength(), 2u * 1024 * 1024);
}

TEST(QmpClient, silent_peer_times_out_and_names_the_command) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    FakePeer::read_line(fd);
    FakePeer::read_line(fd);  // never answers
  });
  Client c = connect_to(peer);
  auto start = std::chrono::steady_clock::now();
  auto msg = expect_throw<TimeoutError>([&] { c.execute("query-migrate", nullptr, 200ms); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_NE(msg.find("query-migrate"), std::string::npos);
}

TEST(QmpClient, silent_peer_without_greeting_times_out) {
  FakePeer peer([](int fd) { FakePeer::read_line(fd); });
  auto msg = expect_throw<TimeoutError>([&] { connect_to(peer, 200ms); });
  EXPECT_NE(msg.find("greeting"), std::string::npos);
}

TEST(QmpClient, reply_with_foreign_id_is_a_protocol_error) {
  FakePeer peer([](int fd) {
    FakePeer::negotiate(fd);
    FakePeer::read_line(fd);
    FakePeer::send(fd, R"({"return": {}, "id": "someone-else"})" "\n");
    FakePeer::read_line(fd);
  });
  Client c = connect_to(peer);
  expect_throw<ProtocolError>([&] { c.execute("query-status"); });
}

TEST(QmpClient, connect_to_missing_socket_names_the_path) {
  auto msg = expect_throw<SystemError>([] { Client::connect("/nonexistent/lsm.qmp", 100ms); });
  EXPECT_NE(msg.find("/nonexistent/lsm.qmp"), std::string::npos);
}

}  // namespace
}  // namespace lsm::qmp

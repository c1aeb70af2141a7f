// The QMP client against a real QEMU (TCG, no guest): what the protocol
// tests can't prove, that we speak QEMU's dialect.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/subprocess.hpp"
#include "qmp/client.hpp"
#include "testing/temp_dir.hpp"

using namespace std::chrono_literals;

namespace lsm::qmp {
namespace {

class RealQemu : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = dir_.path() + "/qmp.sock";
    qemu_.emplace(Subprocess::spawn(
        {"qemu-system-x86_64", "-accel", "tcg", "-nodefaults", "-machine", "none",
         "-display", "none", "-S", "-qmp", "unix:" + socket_ + ",server=on,wait=off"}));
    for (int i = 0; i < 500 && !std::filesystem::exists(socket_); ++i)
      std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(std::filesystem::exists(socket_)) << "QEMU did not create " << socket_;
  }
  void TearDown() override { qemu_.reset(); }

  testing::TempDir dir_{"lsm-qmp-test"};
  std::string socket_;
  std::optional<Subprocess> qemu_;
};

TEST_F(RealQemu, query_status_after_negotiation) {
  Client c = Client::connect(socket_, 10s);
  auto r = c.execute("query-status");
  EXPECT_STREQ(r["status"].GetString(), "prelaunch");
  EXPECT_FALSE(c.qemu_version().empty());
}

TEST_F(RealQemu, peer_pid_is_the_qemu_process) {
  Client c = Client::connect(socket_, 10s);
  EXPECT_EQ(c.peer_pid(), qemu_->pid());
}

TEST_F(RealQemu, unknown_command_is_command_not_found) {
  Client c = Client::connect(socket_, 10s);
  try {
    c.execute("no-such-command");
    FAIL();
  } catch (const ExecuteError& e) {
    EXPECT_EQ(e.error_class(), "CommandNotFound");
  }
}

TEST_F(RealQemu, cont_emits_resume_event) {
  Client c = Client::connect(socket_, 10s);
  c.execute("cont");
  EXPECT_EQ(c.wait_event("RESUME", 10s).name, "RESUME");
  c.execute("stop");
  EXPECT_GT(c.wait_event("STOP", 10s).timestamp(), 1e9);
}

TEST_F(RealQemu, getfd_passes_a_descriptor) {
  Client c = Client::connect(socket_, 10s);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  c.getfd("lsm-test", p[1]);
  json::Document args(rapidjson::kObjectType);
  json::add(args, "fdname", "lsm-test", args.GetAllocator());
  c.execute("closefd", &args);
  try {
    c.execute("closefd", &args);
    FAIL() << "fd should be gone after closefd";
  } catch (const ExecuteError& e) {
    EXPECT_NE(e.desc().find("lsm-test"), std::string::npos);
  }
  ::close(p[0]);
  ::close(p[1]);
}

TEST_F(RealQemu, add_fd_returns_the_fdset) {
  Client c = Client::connect(socket_, 10s);
  int fd = ::open("/dev/null", O_RDWR);
  ASSERT_GE(fd, 0);
  json::Document args(rapidjson::kObjectType);
  json::add(args, "fdset-id", 7, args.GetAllocator());
  auto r = c.execute_with_fd("add-fd", &args, fd);
  EXPECT_EQ(r["fdset-id"].GetInt(), 7);
  auto sets = c.execute("query-fdsets");
  ASSERT_TRUE(sets.IsArray());
  ASSERT_EQ(sets.Size(), 1u);
  ::close(fd);
}

TEST_F(RealQemu, second_client_gets_no_greeting_while_first_is_connected) {
  Client first = Client::connect(socket_, 10s);
  try {
    Client::connect(socket_, 300ms);
    FAIL();
  } catch (const TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("another client"), std::string::npos);
  }
}

}  // namespace
}  // namespace lsm::qmp

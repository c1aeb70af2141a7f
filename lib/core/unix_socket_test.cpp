#include "core/unix_socket.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "core/util.hpp"
#include "testing/temp_dir.hpp"

namespace lsm {
namespace {

using lsm::testing::TempDir;

UniqueFd listener(const std::string& path, int backlog) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = unix_address(path, "test");
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(fd.get(), backlog), 0);
  return fd;
}

TEST(ProbeSocket, nothing_there_is_absent) {
  TempDir t("lsm-sock");
  EXPECT_EQ(probe_socket(t.path() + "/s"), SocketState::kAbsent);
  remove_stale_socket(t.path() + "/s", "QMP socket");
}

TEST(ProbeSocket, a_socket_whose_server_died_is_stale_and_removed) {
  TempDir t("lsm-sock");
  std::string path = t.path() + "/s";
  listener(path, 1);  // closed at once: the file stays, nobody listens
  EXPECT_EQ(probe_socket(path), SocketState::kStale);
  remove_stale_socket(path, "QMP socket");
  EXPECT_FALSE(path_exists(path));
}

TEST(ProbeSocket, a_listener_too_busy_to_accept_is_in_use_and_kept) {
  TempDir t("lsm-sock");
  std::string path = t.path() + "/s";
  UniqueFd server = listener(path, 0);
  // Fill the backlog: the server never accepts, as a QEMU serving another
  // monitor client does not.
  std::vector<UniqueFd> clients;
  for (int i = 0; i < 4; ++i) {
    UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un addr = unix_address(path, "test");
    ::connect(c.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    clients.push_back(std::move(c));
  }
  EXPECT_EQ(probe_socket(path), SocketState::kInUse);
  EXPECT_THROW(remove_stale_socket(path, "QMP socket"), Error);
  EXPECT_TRUE(path_exists(path));
}

TEST(ProbeSocket, refuses_to_touch_what_is_not_a_socket) {
  TempDir t("lsm-sock");
  std::string path = t.path() + "/s";
  write_file_atomically(path, "data");
  EXPECT_THROW(remove_stale_socket(path, "QMP socket"), Error);
  EXPECT_TRUE(path_exists(path));
}

}  // namespace
}  // namespace lsm

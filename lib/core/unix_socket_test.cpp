#include "core/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/fd_io.hpp"
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

TEST(UnixListener, is_ours_alone_takes_one_connection_and_goes_with_its_end) {
  TempDir t("lsm-sock");
  std::string path = t.path() + "/s";
  listener(path, 1);  // a stale one from a listener that died: replaced
  mode_t old = ::umask(0);
  {
    UnixListener l(path, "RAM stream socket");
    ::umask(old);
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << "group or others may connect";
    UniqueFd client = connect_unix(path, "RAM stream socket");
    UniqueFd server = l.accept(Deadline::in(std::chrono::seconds(5)));
    write_all(client.get(), "x", "client");
    char c = 0;
    EXPECT_EQ(::read(server.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
  }
  EXPECT_FALSE(path_exists(path));
}

TEST(UnixListener, nothing_connecting_in_time_is_a_timeout_naming_the_socket) {
  TempDir t("lsm-sock");
  UnixListener l(t.path() + "/s", "RAM stream socket");
  try {
    l.accept(Deadline::in(std::chrono::milliseconds(20)));
    ADD_FAILURE() << "no timeout";
  } catch (const TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("RAM stream socket " + t.path() + "/s"),
              std::string::npos)
        << e.what();
  }
}

TEST(UnixListener, a_live_listener_at_the_path_is_left_alone) {
  TempDir t("lsm-sock");
  UnixListener first(t.path() + "/s", "RAM stream socket");
  EXPECT_THROW(UnixListener(t.path() + "/s", "RAM stream socket"), Error);
}

}  // namespace
}  // namespace lsm

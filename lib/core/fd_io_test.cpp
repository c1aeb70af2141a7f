#include "core/fd_io.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <thread>

#include "core/unique_fd.hpp"

namespace lsm {
namespace {

using namespace std::chrono_literals;

std::pair<UniqueFd, UniqueFd> socket_pair() {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

// A receiver's memory must not grow with the stream: fed as ssh feeds it
// (32 KiB writes) and read in pieces of another size, 64 MiB go through a
// buffer that stays small.
TEST(FdReader, memory_stays_flat_over_a_long_stream) {
  auto [reader_end, writer_end] = socket_pair();
  constexpr std::size_t kTotal = 64 << 20, kWrite = 32 << 10, kRead = 20000;
  std::thread writer([fd = writer_end.get()] {
    std::string chunk(kWrite, 'x');
    for (std::size_t sent = 0; sent < kTotal; sent += kWrite) write_all(fd, chunk, "socket");
    ::shutdown(fd, SHUT_WR);
  });
  FdReader in(reader_end.get(), "socket");
  std::size_t got = 0, most = 0;
  for (std::string s; !(s = in.read_some(kRead, Deadline::never())).empty();) {
    got += s.size();
    most = std::max(most, in.buffered());
  }
  writer.join();
  EXPECT_EQ(got, kTotal);
  EXPECT_LT(most, 1u << 20) << "the buffer grew to " << most << " bytes";
}

TEST(FdReader, a_silent_peer_fails_a_read_after_the_idle_timeout) {
  auto [reader_end, writer_end] = socket_pair();
  FdReader in(reader_end.get(), "the quiet peer");
  in.set_idle_timeout(200ms);
  try {
    in.read_line(100, Deadline::never());
    ADD_FAILURE() << "read returned";
  } catch (const TimeoutError& e) {
    EXPECT_STREQ(e.what(), "nothing from the quiet peer for 200 ms");
  }
}

}  // namespace
}  // namespace lsm

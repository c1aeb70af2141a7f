#include "core/fd_io.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "core/unique_fd.hpp"
#include "testing/drain.hpp"

namespace lsm {
namespace {

using namespace std::chrono_literals;
using lsm::testing::drain;

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

// Exact reads larger than the staging buffer go straight into the result:
// a line, then a long count split over many small writes, then a short
// count, each in its bytes and its order.
TEST(FdReader, a_large_exact_read_keeps_what_was_buffered_and_the_order) {
  auto [reader_end, writer_end] = socket_pair();
  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
  std::thread writer([fd = writer_end.get(), &big] {
    write_all(fd, "hello\n", "socket");
    for (std::size_t at = 0; at < big.size(); at += 10000)
      write_all(fd, std::string_view(big).substr(at, 10000), "socket");
    write_all(fd, "tail", "socket");
    ::shutdown(fd, SHUT_WR);
  });
  FdReader in(reader_end.get(), "socket");
  EXPECT_EQ(in.read_line(100, Deadline::never()), "hello");
  EXPECT_TRUE(in.read_exact(big.size(), Deadline::never()) == big);
  EXPECT_EQ(in.read_exact(4, Deadline::never()), "tail");
  writer.join();
}

TEST(FdReader, a_large_exact_read_cut_short_says_how_much_came) {
  auto [reader_end, writer_end] = socket_pair();
  std::thread writer([fd = writer_end.get()] {
    write_all(fd, std::string(100000, 'x'), "socket");
    ::shutdown(fd, SHUT_WR);
  });
  FdReader in(reader_end.get(), "the peer");
  try {
    in.read_exact(1 << 20, Deadline::never());
    ADD_FAILURE() << "read returned";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the peer: stream ended after 100000 of 1048576 expected bytes");
  }
  writer.join();
}

std::string patterned(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 13 + i / 4096);
  return s;
}

// From a pipe, as ssh feeds the receiver: the bytes a line read buffered
// go first, the rest is spliced, and reading resumes right after them.
TEST(FdReader, pass_moves_what_is_buffered_then_the_rest_in_order) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  auto [out_r, out_w] = socket_pair();
  std::string big = patterned(3 << 20);
  std::thread writer([fd = w.get(), &big] {
    write_all(fd, "hello\n", "pipe");
    for (std::size_t at = 0; at < big.size(); at += 10000)
      write_all(fd, std::string_view(big).substr(at, 10000), "pipe");
    write_all(fd, "tail", "pipe");
  });
  std::string got;
  std::thread reader([fd = out_r.get(), &got] { got = drain(fd); });
  FdReader in(r.get(), "pipe");
  EXPECT_EQ(in.read_line(100, Deadline::never()), "hello");
  in.pass(big.size(), out_w.get(), "socket", Deadline::never());
  out_w.reset();
  EXPECT_EQ(in.read_exact(4, Deadline::never()), "tail");
  writer.join();
  reader.join();
  EXPECT_TRUE(got == big);
}

// Socket to socket the kernel cannot splice: the bytes are copied instead.
TEST(FdReader, pass_copies_where_neither_end_is_a_pipe) {
  auto [in_r, in_w] = socket_pair();
  auto [out_r, out_w] = socket_pair();
  std::string big = patterned(1 << 20);
  std::thread writer([fd = in_w.get(), &big] { write_all(fd, big, "socket"); });
  std::string got;
  std::thread reader([fd = out_r.get(), &got] { got = drain(fd); });
  FdReader in(in_r.get(), "socket");
  in.pass(big.size(), out_w.get(), "socket", Deadline::never());
  out_w.reset();
  writer.join();
  reader.join();
  EXPECT_TRUE(got == big);
}

TEST(FdReader, pass_cut_short_says_how_much_came) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  auto [out_r, out_w] = socket_pair();
  std::thread writer([&w] {
    write_all(w.get(), std::string(50000, 'x'), "pipe");
    w.reset();
  });
  std::thread reader([fd = out_r.get()] { drain(fd); });
  FdReader in(r.get(), "the peer");
  try {
    in.pass(1 << 20, out_w.get(), "socket", Deadline::never());
    ADD_FAILURE() << "pass returned";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the peer: stream ended after 50000 of 1048576 expected bytes");
  }
  out_w.reset();
  writer.join();
  reader.join();
}

TEST(FdReader, without_read_ahead_an_exact_read_leaves_what_follows_unread) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  write_all(w.get(), "0123456789abcdef and the rest", "pipe");
  FdReader in(r.get(), "pipe");
  in.set_read_ahead(false);
  EXPECT_EQ(in.read_exact(16, Deadline::never()), "0123456789abcdef");
  char rest[64];
  ASSERT_EQ(::read(r.get(), rest, sizeof rest), 13);
  EXPECT_EQ(std::string_view(rest, 13), " and the rest");
}

// A head and body written together arrive whole and in order even when the
// reader drains them slowly, so that writev returns short.
TEST(WriteAll, head_and_body_survive_short_writes) {
  auto [reader_end, writer_end] = socket_pair();
  std::string body(2 << 20, 'b');
  std::thread writer([fd = writer_end.get(), &body] {
    write_all(fd, "HEAD", body, "socket");
    write_all(fd, "H2", "", "socket");
    ::shutdown(fd, SHUT_WR);
  });
  FdReader in(reader_end.get(), "socket");
  std::string got;
  for (std::string s; !(s = in.read_some(3000, Deadline::never())).empty();) got += s;
  writer.join();
  EXPECT_TRUE(got == "HEAD" + body + "H2") << "got " << got.size() << " bytes";
}

TEST(WidenPipe, a_pipe_grows_and_anything_else_is_left_alone) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  widen_pipe(w.get());
  EXPECT_EQ(::fcntl(r.get(), F_GETPIPE_SZ), 1 << 20);
  auto [a, b] = socket_pair();
  EXPECT_NO_THROW(widen_pipe(a.get()));
  write_all(a.get(), "still works", "socket");
  FdReader in(b.get(), "socket");
  EXPECT_EQ(in.read_exact(11, Deadline::never()), "still works");
}

}  // namespace
}  // namespace lsm

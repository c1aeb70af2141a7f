#include "proto/progress_filter.hpp"

#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"

namespace lsm::proto {
namespace {

constexpr const char* kDisks =
    R"({"lsm":1,"type":"progress","phase":"disks","done":0,"total":33554432,"rate":0.0,"final":false})";
constexpr const char* kDisksReady =
    R"({"lsm":1,"type":"progress","phase":"disks","done":33554432,"total":33554432,"rate":16777216.0,"final":true})";
constexpr const char* kReceived =
    R"({"lsm":1,"type":"progress","phase":"ram received","done":1024,"total":0,"rate":0.0,"final":false})";

std::pair<UniqueFd, UniqueFd> make_pipe() {
  int p[2];
  EXPECT_EQ(::pipe(p), 0);
  return {UniqueFd(p[0]), UniqueFd(p[1])};
}

// filter_progress on its own thread, between two pipes, as lsm-progress
// runs it between the tools and the terminal.
class Running {
 public:
  explicit Running(bool smart) {
    auto [in_r, in_w] = make_pipe();
    auto [out_r, out_w] = make_pipe();
    in_ = std::move(in_w);
    out_ = std::move(out_r);
    thread_ = std::thread([this, smart, r = in_r.release(), w = out_w.release()] {
      UniqueFd in(r), out(w);
      StatusLine line(out.get(), smart);
      filter_progress(in.get(), line, {.ram_bytes = 0, .downtime_ms = 300});
    });
  }
  ~Running() {
    if (thread_.joinable()) finish();
  }
  void write(const std::string& s) { write_all(in_.get(), s, "pipe"); }
  // What came out within ms, without waiting for the end.
  std::string output_within(int ms) {
    struct pollfd p = {out_.get(), POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return "";
    char buf[4096];
    ssize_t n = ::read(out_.get(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }
  // Ends the input; everything that came out.
  std::string finish() {
    in_ = UniqueFd();
    thread_.join();
    FdReader r(out_.get(), "pipe");
    std::string all;
    for (std::string s; !(s = r.read_some(4096, Deadline::never())).empty();) all += s;
    return all;
  }

 private:
  UniqueFd in_, out_;
  std::thread thread_;
};

TEST(FilterProgress, draws_progress_as_one_line_and_passes_every_other_line_as_it_is) {
  Running f(true);
  f.write(std::string("lsm-migrate: ssh to dst: cipher aes128-gcm@openssh.com\n") + kDisks + "\n" +
          kReceived + "\nlsm-mirror: error: drive0: gone\r\n" + kDisksReady + "\n");
  EXPECT_EQ(f.finish(),
            "lsm-migrate: ssh to dst: cipher aes128-gcm@openssh.com\n"
            "\rdisks 0.0/32.0 MiB | ETA -:-- | pause <=300 ms\033[K"
            "\r\033[Klsm-mirror: error: drive0: gone\r\n"
            "\rdisks 32.0 MiB ready | ETA 0:00 | pause <=300 ms\033[K\n");
}

TEST(FilterProgress, the_same_line_is_not_drawn_twice_unless_something_came_between) {
  Running f(false);
  f.write(std::string(kDisks) + "\n" + kDisks + "\nlsm-mirror: a notice\n" + kDisks + "\n");
  EXPECT_EQ(f.finish(),
            "disks 0.0/32.0 MiB | ETA -:-- | pause <=300 ms\n"
            "lsm-mirror: a notice\n"
            "disks 0.0/32.0 MiB | ETA -:-- | pause <=300 ms\n");
}

TEST(FilterProgress, a_line_without_its_end_is_printed_after_a_moment_then_the_rest) {
  Running f(true);
  f.write(std::string(kDisks) + "\n");
  EXPECT_EQ(f.output_within(2000), "\rdisks 0.0/32.0 MiB | ETA -:-- | pause <=300 ms\033[K");
  f.write("lsm-ramstream: error: writing to the dest");
  EXPECT_EQ(f.output_within(2000), "\r\033[Klsm-ramstream: error: writing to the dest");
  f.write("ination: EPIPE\n");
  EXPECT_EQ(f.finish(), "ination: EPIPE\n");
}

TEST(FilterProgress, a_writer_that_died_mid_line_loses_nothing) {
  Running f(false);
  f.write("lsm-mirror: error: half a li");
  EXPECT_EQ(f.finish(), "lsm-mirror: error: half a li");
}

}  // namespace
}  // namespace lsm::proto

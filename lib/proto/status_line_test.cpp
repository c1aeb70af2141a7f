#include "proto/status_line.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"

namespace lsm::proto {
namespace {

// What a StatusLine writes, read back from a pipe (not a terminal: 80
// columns).
class Written {
 public:
  Written() {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    read_end_ = UniqueFd(p[0]);
    write_end_ = UniqueFd(p[1]);
  }
  int fd() const { return write_end_.get(); }
  std::string text() {
    write_end_ = UniqueFd();
    FdReader in(read_end_.get(), "pipe");
    std::string all;
    for (std::string s; !(s = in.read_some(4096, Deadline::never())).empty();) all += s;
    return all;
  }

 private:
  UniqueFd read_end_, write_end_;
};

TEST(StatusLine, on_a_terminal_rewrites_one_line_and_prints_other_lines_above_it) {
  Written w;
  StatusLine s(w.fd(), true);
  s.show("disks 10%");
  s.show("disks 20%");
  s.print("lsm-mirror: error: gone\n");
  EXPECT_FALSE(s.showing());
  s.show("disks 30%");
  s.end();
  EXPECT_EQ(w.text(),
            "\rdisks 10%\033[K\rdisks 20%\033[K\r\033[Klsm-mirror: error: gone\n"
            "\rdisks 30%\033[K\n");
}

TEST(StatusLine, elsewhere_each_status_is_a_line_and_no_cr_is_written) {
  Written w;
  StatusLine s(w.fd(), false);
  s.show("disks 10%");
  s.print("lsm-mirror: error: gone\n");
  s.show("disks 30%");
  s.end();
  EXPECT_EQ(w.text(), "disks 10%\nlsm-mirror: error: gone\ndisks 30%\n");
}

TEST(StatusLine, a_status_wider_than_the_terminal_is_cut_so_it_cannot_wrap) {
  Written w;
  StatusLine s(w.fd(), true);
  s.show(std::string(100, 'x'));
  EXPECT_EQ(w.text(), "\r" + std::string(79, 'x') + "\033[K");
}

TEST(StatusLine, an_output_gone_is_no_error) {
  UniqueFd read_only(::open("/dev/null", O_RDONLY));
  StatusLine s(read_only.get(), true);
  EXPECT_NO_THROW({
    s.show("disks 10%");
    s.print("an error nobody can see\n");
    s.end();
  });
}

TEST(StatusLine, nothing_printed_keeps_the_status) {
  Written w;
  StatusLine s(w.fd(), true);
  s.show("RAM 5%");
  s.print("");
  EXPECT_TRUE(s.showing());
}

}  // namespace
}  // namespace lsm::proto

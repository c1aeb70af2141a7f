#include "proto/progress.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"
#include "json/json.hpp"

namespace lsm::proto {
namespace {

// What fn writes on stderr (where Progress writes), through a pipe.
template <typename Fn>
std::string stderr_of(Fn fn) {
  int p[2];
  EXPECT_EQ(::pipe(p), 0);
  UniqueFd read_end(p[0]), saved(::dup(STDERR_FILENO));
  ::dup2(p[1], STDERR_FILENO);
  ::close(p[1]);
  fn();
  ::dup2(saved.get(), STDERR_FILENO);
  FdReader in(read_end.get(), "pipe");
  std::string all;
  for (std::string s; !(s = in.read_some(4096, Deadline::never())).empty();) all += s;
  return all;
}

TEST(Progress, json_lines_carry_the_phases_own_figures_until_set_again) {
  std::string out = stderr_of([] {
    Progress p("ram", true);
    p.set("remaining", 4096);
    p.set("expected_downtime_ms", 40);
    p.finish(1, 2);
    p.set("remaining", 0);
    p.finish(2, 2, "switched over");
  });
  auto nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  auto first = json::parse(out.substr(0, nl), "first line");
  auto last = json::parse(out.substr(nl + 1), "last line");
  EXPECT_EQ(json::string_at(first, "phase", ""), "ram");
  EXPECT_EQ(json::u64_at(first, "remaining", ""), 4096u);
  EXPECT_EQ(json::u64_at(first, "expected_downtime_ms", ""), 40u);
  EXPECT_EQ(json::u64_at(last, "remaining", ""), 0u);
  EXPECT_EQ(json::u64_at(last, "expected_downtime_ms", ""), 40u);
  EXPECT_EQ(json::string_at(last, "note", ""), "switched over");
}

}  // namespace
}  // namespace lsm::proto

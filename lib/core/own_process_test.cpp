#include "core/own_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/subprocess.hpp"

namespace lsm {
namespace {

using namespace std::chrono_literals;

// `sleep SECONDS`, once it has exec'd: until then /proc shows our own
// command line.
Subprocess sleeper(const std::string& seconds) {
  Subprocess p = Subprocess::spawn({"sleep", seconds});
  for (int i = 0; i < 500 && !runs_with(p.pid(), "sleep"); ++i)
    std::this_thread::sleep_for(2ms);
  return p;
}

TEST(RunsWith, finds_a_marker_in_one_argument) {
  Subprocess p = sleeper("30");
  EXPECT_TRUE(runs_with(p.pid(), "30"));
  EXPECT_FALSE(runs_with(p.pid(), "/run/lsm/qemu/vm.qmp"));
  EXPECT_FALSE(runs_with(p.pid(), ""));
}

TEST(SignalOwn, leaves_a_process_that_is_not_ours_alone) {
  Subprocess p = sleeper("30");
  EXPECT_FALSE(signal_own(p.pid(), "/run/lsm/lsm/vm.nbd-0", SIGTERM, "qemu-nbd of vm"));
  EXPECT_FALSE(p.wait(100ms)) << "a process that is not ours was signalled";
}

TEST(SignalOwn, signals_a_process_that_is_ours) {
  Subprocess p = sleeper("31");
  EXPECT_TRUE(signal_own(p.pid(), "31", SIGTERM, "the sleeper"));
  auto status = p.wait(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGTERM);
}

TEST(SignalOwn, ignores_pids_that_name_no_process) {
  EXPECT_FALSE(signal_own(0, "x", SIGTERM, "nothing"));
  EXPECT_FALSE(signal_own(-1, "x", SIGTERM, "nothing"));
}

}  // namespace
}  // namespace lsm

#include "core/subprocess.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace lsm {
namespace {

char state_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void* wait_for_parent(void* arg) {
  char c;
  // Ends when the test closes the pipe's other end.
  while (::read(*static_cast<int*>(arg), &c, 1) > 0) {
  }
  ::_exit(0);
}

TEST(ProcessAlive, a_zombie_leader_counts_until_its_last_thread_ends) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[1]);
    pthread_t t;
    if (::pthread_create(&t, nullptr, wait_for_parent, &p[0]) != 0) ::_exit(1);
    // The leader alone exits, as QEMU's main thread may before the others.
    ::syscall(SYS_exit, 0);
  }
  ::close(p[0]);
  ASSERT_TRUE(eventually([&] { return state_of(pid) == 'Z'; }));
  EXPECT_TRUE(process_alive(pid));
  ::close(p[1]);
  EXPECT_TRUE(eventually([&] { return !process_alive(pid); }));
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
}

TEST(ProcessAlive, a_reaped_process_and_a_plain_zombie_are_gone) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(0);
  ASSERT_TRUE(eventually([&] { return state_of(pid) == 'Z'; }));
  EXPECT_FALSE(process_alive(pid));
  ::waitpid(pid, nullptr, 0);
  EXPECT_FALSE(process_alive(pid));
}

}  // namespace
}  // namespace lsm

#include "core/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/fd_io.hpp"
#include "core/unique_fd.hpp"
#include "core/util.hpp"

extern char** environ;

namespace lsm {

namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

Subprocess Subprocess::spawn(const std::vector<std::string>& argv,
                             const SpawnOptions& opts) {
  if (argv.empty()) throw Error("spawn: empty command");
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) throw SystemError("open /dev/null", errno);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, opts.stdin_fd >= 0 ? opts.stdin_fd : devnull.get(), 0);
  posix_spawn_file_actions_adddup2(&fa, opts.stdout_fd >= 0 ? opts.stdout_fd : devnull.get(), 1);
  if (opts.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&fa, opts.stderr_fd, 2);
  // A long-lived child (the destination QEMU) must not hold our caller's
  // pipes open: ssh or a test harness would wait on them forever.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The child must not inherit our ignored SIGPIPE.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  short flags = POSIX_SPAWN_SETSIGDEF;
  posix_spawnattr_setsigdefault(&attr, &defaults);
  if (opts.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw SystemError("starting " + argv[0], rc);
  return Subprocess(pid);
}

Subprocess Subprocess::spawn_detached(const std::vector<std::string>& argv,
                                      const std::string& log) {
  UniqueFd log_fd = open_private_log(log);
  SpawnOptions o;
  o.stdout_fd = log_fd.get();
  o.stderr_fd = log_fd.get();
  o.new_session = true;
  return spawn(argv, o);
}

Subprocess::Subprocess(Subprocess&& other) noexcept : pid_(other.release()) {}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::optional<int> Subprocess::wait(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (r < 0 && errno != EINTR) throw SystemError("waitpid", errno);
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

pid_t Subprocess::release() { return std::exchange(pid_, -1); }

bool process_alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) < 0) return false;
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  char buf[512];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return false;
  std::string stat(buf, static_cast<std::size_t>(n));
  // The state follows the parenthesised command name, which may hold spaces.
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z')
    return true;
  // A zombie leader whose other threads are still exiting still holds its
  // files open (a QEMU's listening sockets among them): not gone yet.
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoul(line.substr(8)) > 1;
  return false;
}

std::string run_capture(const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
    throw SystemError("pipe", errno);
  UniqueFd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]);
  SpawnOptions o;
  o.stdout_fd = out_w.get();
  o.stderr_fd = err_w.get();
  Subprocess p = Subprocess::spawn(argv, o);
  out_w.reset();
  err_w.reset();
  // Drain both pipes so a chatty child cannot block on a full one.
  std::string stdout_text, stderr_text;
  std::thread drain_err([&] {
    FdReader r(err_r.get(), argv[0] + " stderr");
    for (std::string s; !(s = r.read_some(65536, Deadline::never())).empty();)
      stderr_text += s;
  });
  FdReader r(out_r.get(), argv[0] + " stdout");
  for (std::string s; !(s = r.read_some(65536, Deadline::never())).empty();)
    stdout_text += s;
  drain_err.join();
  int status = *p.wait(std::chrono::hours(24));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!stderr_text.empty() && stderr_text.back() == '\n') stderr_text.pop_back();
    throw Error(argv[0] + " failed (" + describe_status(status) + ")" +
                (stderr_text.empty() ? "" : ": " + stderr_text));
  }
  return stdout_text;
}

}  // namespace lsm

// Child processes started from an argv vector: never through a shell, so
// no quoting bugs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace lsm {

struct SpawnOptions {
  int stdin_fd = -1;   // -1: /dev/null
  int stdout_fd = -1;  // -1: /dev/null
  int stderr_fd = -1;  // -1: inherit
  bool new_session = false;  // detach from our session (survives ssh exit)
};

class Subprocess {
 public:
  static Subprocess spawn(const std::vector<std::string>& argv,
                          const SpawnOptions& opts = {});
  // A server that must outlive the tool starting it (and the ssh session
  // around that): its own session, stdout and stderr appended to log
  // (created 0600).
  static Subprocess spawn_detached(const std::vector<std::string>& argv, const std::string& log);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  ~Subprocess();  // kills and reaps a child still running unless released

  pid_t pid() const { return pid_; }
  // Exit status once it has ended within timeout; nullopt otherwise.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Stop owning the child: it keeps running after we are gone.
  pid_t release();

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// True while pid exists and is not a zombie (a daemonized QEMU's zombie
// lingers until init reaps it), or is a zombie thread group leader whose
// other threads have not ended yet (they still hold its files).
bool process_alive(pid_t pid);

// Runs argv to completion, returning its stdout; throws naming the command
// and its stderr when it fails.
std::string run_capture(const std::vector<std::string>& argv);

}  // namespace lsm

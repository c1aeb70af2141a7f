#include "core/log.hpp"

#include <unistd.h>

#include "core/fd_io.hpp"

namespace lsm::log {

namespace {

std::string g_program = "lsm";
int g_verbosity = 0;

void emit(const std::string& msg) {
  // One write per line keeps lines whole when tools share a stderr.
  try {
    write_all(STDERR_FILENO, g_program + ": " + msg + "\n", "stderr");
  } catch (const Error&) {
    // stderr is gone (the orchestrator died): nobody is left to tell.
  }
}

}  // namespace

void set_program(std::string name) { g_program = std::move(name); }
void set_verbosity(int level) { g_verbosity = level; }
int verbosity() { return g_verbosity; }

void error(const std::string& msg) { emit("error: " + msg); }
void notice(const std::string& msg) { emit(msg); }
void info(const std::string& msg) {
  if (g_verbosity >= 1) emit(msg);
}
void debug(const std::string& msg) {
  if (g_verbosity >= 2) emit("debug: " + msg);
}

}  // namespace lsm::log

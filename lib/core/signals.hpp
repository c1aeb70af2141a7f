// Steps that must finish once begun (the commit on the destination, the
// "go" on the source) hold back the signals that would end a tool midway;
// they arrive, with their usual effect, when the step is done.
#pragma once

#include <signal.h>

namespace lsm {

// Blocks INT, TERM, HUP and QUIT; returns the mask to restore.
sigset_t defer_signals();
void restore_signals(const sigset_t& old);

// Runs fn with those signals held back.
template <typename Fn>
auto with_signals_deferred(Fn&& fn) -> decltype(fn()) {
  struct Restore {
    sigset_t old;
    ~Restore() { restore_signals(old); }
  } restore{defer_signals()};
  return fn();
}

}  // namespace lsm

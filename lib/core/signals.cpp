#include "core/signals.hpp"

#include <pthread.h>

#include <initializer_list>

namespace lsm {

sigset_t defer_signals() {
  sigset_t set, old;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  return old;
}

void restore_signals(const sigset_t& old) { pthread_sigmask(SIG_SETMASK, &old, nullptr); }

}  // namespace lsm

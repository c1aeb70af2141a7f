#include "core/signals.hpp"

#include <pthread.h>

#include <initializer_list>

namespace lsm {

SignalsDeferred::SignalsDeferred() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, &old_);
}

SignalsDeferred::~SignalsDeferred() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

}  // namespace lsm

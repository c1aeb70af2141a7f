// Steps that must finish once begun (the commit on the destination, the
// "go" on the source) hold back the signals that would end a tool midway;
// they arrive, with their usual effect, when the step is done.
#pragma once

#include <signal.h>

namespace lsm {

class SignalsDeferred {
 public:
  SignalsDeferred();
  ~SignalsDeferred();
  SignalsDeferred(const SignalsDeferred&) = delete;
  SignalsDeferred& operator=(const SignalsDeferred&) = delete;

 private:
  sigset_t old_;
};

}  // namespace lsm

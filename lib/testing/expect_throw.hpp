// The message of the exception a test expects a call to throw.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace lsm::testing {

// Runs fn and returns what() of the E it throws. If it returns instead,
// records a failure and returns "", so any check on the message fails too;
// an exception of another type propagates and fails the test.
template <typename E, typename Fn>
std::string expect_throw(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected exception not thrown";
  return {};
}

}  // namespace lsm::testing

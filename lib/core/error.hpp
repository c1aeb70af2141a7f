// The error tree every lsm tool throws from lib/ and catches only in main()
// and in rollback guards. Context is added as errors travel up with
// std::throw_with_nested, so one line can tell which disk, phase and peer.
#pragma once

#include <stdexcept>
#include <string>

namespace lsm {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad command line or arguments; exit status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// A system call failed; carries errno.
class SystemError : public Error {
 public:
  SystemError(const std::string& what, int err);
  int code() const { return code_; }

 private:
  int code_;
};

// Something went wrong after the point of no return: neither host can be
// assumed to hold the authoritative VM. Exit status 3.
class IndeterminateError : public Error {
 public:
  using Error::Error;
};

// Process exit statuses shared by every tool (documented in each man page).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIndeterminate = 3;

// "outer: inner: innermost" for an exception and everything nested in it.
std::string describe(const std::exception& e);

// Exit status for an exception chain: the most severe class found in it.
int exit_status_for(const std::exception& e);

// Runs fn; any exception it throws is nested inside Error(context).
template <typename Fn>
auto with_context(const std::string& context, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    std::throw_with_nested(Error(context));
  }
}

}  // namespace lsm

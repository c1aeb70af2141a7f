// A point in time after which a blocking operation gives up. Timeouts are
// passed down as deadlines so a sequence of reads shares one budget.
#pragma once

#include <chrono>
#include <optional>

namespace lsm {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static Deadline never() { return Deadline(); }
  static Deadline in(std::chrono::milliseconds ms) {
    return Deadline(Clock::now() + ms);
  }

  bool expired() const { return at_ && Clock::now() >= *at_; }
  // Milliseconds left for poll(): -1 for never, 0 once expired.
  int poll_timeout_ms() const;

 private:
  Deadline() = default;
  explicit Deadline(Clock::time_point at) : at_(at) {}
  std::optional<Clock::time_point> at_;
};

}  // namespace lsm

// Whether QEMU's live RAM rounds are getting anywhere. QEMU switches over
// only once what is left fits the downtime limit at the rate it measures;
// a guest that dirties memory faster than the link moves it never gets
// there, and QEMU says nothing. This watches query-migrate and says so,
// once, with the figures and what would help.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "json/json.hpp"

namespace lsm::qemu {

class ConvergenceWatch {
 public:
  explicit ConvergenceWatch(std::uint64_t downtime_ms) : downtime_ms_(downtime_ms) {}

  // The downtime limit QEMU has now: --downtime less what the pause holds
  // besides RAM (qemu/pause_budget.hpp).
  void set_limit(std::uint64_t ms) { limit_ms_ = ms; }

  // Feeds one query-migrate reply; returns the message the first time the
  // migration is judged not to converge, nullopt otherwise.
  std::optional<std::string> feed(const json::Value& query_migrate);

 private:
  std::uint64_t downtime_ms_;
  std::uint64_t limit_ms_ = downtime_ms_;
  int over_ = 0;  // consecutive samples past the rounds allowed and the limit
  bool said_ = false;
};

}  // namespace lsm::qemu

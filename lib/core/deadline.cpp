#include "core/deadline.hpp"

#include <algorithm>
#include <climits>

namespace lsm {

int Deadline::poll_timeout_ms() const {
  if (!at_) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*at_ - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, INT_MAX));
}

}  // namespace lsm

#include "qemu/pause_budget.hpp"

#include <algorithm>
#include <cstdio>

namespace lsm::qemu {

std::uint64_t PauseBudget::in_flight(const PauseFigures& f) {
  return f.queued > 0 ? f.queued + kSshChannelWindow : 0;
}

std::uint64_t PauseBudget::ahead_ms(const PauseFigures& f) const {
  double bytes = static_cast<double>(in_flight(f) + f.disk_behind);
  return static_cast<std::uint64_t>(bytes * 1000.0 / static_cast<double>(f.link_rate));
}

std::uint64_t PauseBudget::limit_ms(const PauseFigures& f) const {
  if (f.link_rate == 0) return downtime_ms_;
  std::uint64_t floor = floor_ms();
  std::uint64_t ahead = ahead_ms(f);
  return ahead + floor >= downtime_ms_ ? floor : downtime_ms_ - ahead;
}

std::uint64_t PauseBudget::next_aim_ms(const PauseFigures& f) {
  aim_ms_ = std::min({aim_ms_ * 2, downtime_ms_, limit_ms(f)});
  return aim_ms_;
}

std::optional<std::string> PauseBudget::over(const PauseFigures& f) {
  if (said_ || f.link_rate == 0) return std::nullopt;
  std::uint64_t ahead = ahead_ms(f);
  if (ahead < downtime_ms_) return std::nullopt;
  said_ = true;
  char msg[400];
  std::snprintf(msg, sizeof msg,
                "the pause will exceed --downtime %llu: at the %.1f MiB/s that reach the "
                "destination, the %.1f MiB in flight and the %.1f MiB the disk mirrors are "
                "behind alone take %llu ms; more --bandwidth (or a faster link), "
                "--write-blocking or a longer --downtime would keep it",
                static_cast<unsigned long long>(downtime_ms_), f.link_rate / 1048576.0,
                in_flight(f) / 1048576.0, f.disk_behind / 1048576.0,
                static_cast<unsigned long long>(ahead));
  return std::string(msg);
}

}  // namespace lsm::qemu

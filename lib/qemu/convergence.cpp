#include "qemu/convergence.hpp"

#include <cstdio>

#include "qemu/ram_figures.hpp"

namespace lsm::qemu {

namespace {

// A few rounds are normal: the first copies everything, the next ones what
// the guest wrote meanwhile. Past these, with the expected pause still over
// the limit for this many samples (500 ms apart), it is not converging.
constexpr std::uint64_t kRoundsAllowed = 5;
constexpr int kSamplesOver = 10;

}  // namespace

std::optional<std::string> ConvergenceWatch::feed(const json::Value& info) {
  auto ram = ram_figures(info);
  if (said_ || !ram) return std::nullopt;
  std::uint64_t rounds = ram->rounds;
  std::uint64_t expected_ms = ram->expected_downtime_ms.value_or(0);
  if (rounds <= kRoundsAllowed || expected_ms <= limit_ms_) {
    over_ = 0;
    return std::nullopt;
  }
  if (++over_ < kSamplesOver) return std::nullopt;
  said_ = true;
  double dirty_mib_s = ram->dirty_rate / 1048576.0;
  double link_mib_s = ram->link_rate / 1048576.0;
  std::string against = "--downtime " + std::to_string(downtime_ms_);
  if (limit_ms_ != downtime_ms_)
    against = "the " + std::to_string(limit_ms_) + " ms it may take of " + against +
              " (the rest is for the bytes in flight and the disks)";
  char msg[500];
  std::snprintf(msg, sizeof msg,
                "RAM is not converging after %llu rounds: the guest dirties %.1f MiB/s and "
                "%.1f MiB/s reach the destination, so QEMU expects a %llu ms pause against "
                "%s; more --bandwidth (or a faster link), a longer --downtime or "
                "a quieter guest would let it finish",
                static_cast<unsigned long long>(rounds), dirty_mib_s, link_mib_s,
                static_cast<unsigned long long>(expected_ms), against.c_str());
  return std::string(msg);
}

}  // namespace lsm::qemu

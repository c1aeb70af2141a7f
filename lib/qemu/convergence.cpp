#include "qemu/convergence.hpp"

#include <cstdio>

namespace lsm::qemu {

namespace {

// A few rounds are normal: the first copies everything, the next ones what
// the guest wrote meanwhile. Past these, with the expected pause still over
// the limit for this many samples (500 ms apart), it is not converging.
constexpr std::uint64_t kRoundsAllowed = 5;
constexpr int kSamplesOver = 10;

std::uint64_t u64_or_zero(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && v->IsUint64() ? v->GetUint64() : 0;
}

double double_or_zero(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && v->IsNumber() ? v->GetDouble() : 0;
}

}  // namespace

std::optional<std::string> ConvergenceWatch::feed(const json::Value& info) {
  const json::Value* ram = json::find(info, "ram");
  if (said_ || !ram || !ram->IsObject()) return std::nullopt;
  std::uint64_t rounds = u64_or_zero(*ram, "dirty-sync-count");
  std::uint64_t expected_ms = u64_or_zero(info, "expected-downtime");
  if (rounds <= kRoundsAllowed || expected_ms <= downtime_ms_) {
    over_ = 0;
    return std::nullopt;
  }
  if (++over_ < kSamplesOver) return std::nullopt;
  said_ = true;
  double page = static_cast<double>(u64_or_zero(*ram, "page-size"));
  double dirty_mib_s = double_or_zero(*ram, "dirty-pages-rate") * (page > 0 ? page : 4096) / 1048576;
  double link_mib_s = double_or_zero(*ram, "mbps") * 1e6 / 8 / 1048576;
  char msg[400];
  std::snprintf(msg, sizeof msg,
                "RAM is not converging after %llu rounds: the guest dirties %.1f MiB/s and "
                "%.1f MiB/s reach the destination, so QEMU expects a %llu ms pause against "
                "--downtime %llu; more --bandwidth (or a faster link), a longer --downtime or "
                "a quieter guest would let it finish",
                static_cast<unsigned long long>(rounds), dirty_mib_s, link_mib_s,
                static_cast<unsigned long long>(expected_ms),
                static_cast<unsigned long long>(downtime_ms_));
  return std::string(msg);
}

}  // namespace lsm::qemu

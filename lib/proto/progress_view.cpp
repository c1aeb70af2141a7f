#include "proto/progress_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "proto/message.hpp"

namespace lsm::proto {

namespace {

constexpr double kMiB = 1 << 20;
constexpr double kGiB = 1 << 30;

double number_or_zero(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && v->IsNumber() ? v->GetDouble() : 0;
}

std::optional<std::uint64_t> u64_if_any(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  if (!v || !v->IsUint64()) return std::nullopt;
  return v->GetUint64();
}

std::string printed(const char* format, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

// "3.2/8.0 GiB": both in the unit the total reads best in.
std::string amounts(std::uint64_t done, std::uint64_t total) {
  return total >= kGiB ? printed("%.1f/%.1f GiB", done / kGiB, total / kGiB)
                       : printed("%.1f/%.1f MiB", done / kMiB, total / kMiB);
}

std::string amount(std::uint64_t bytes) {
  return bytes >= kGiB ? printed("%.1f GiB", bytes / kGiB) : printed("%.1f MiB", bytes / kMiB);
}

std::string rate_text(double bytes_per_s) {
  if (bytes_per_s >= kGiB) return printed("%.1f GiB/s", bytes_per_s / kGiB);
  if (bytes_per_s >= 10 * kMiB) return printed("%.0f MiB/s", bytes_per_s / kMiB);
  if (bytes_per_s >= kMiB) return printed("%.1f MiB/s", bytes_per_s / kMiB);
  return printed("%.0f KiB/s", bytes_per_s / 1024);
}

std::string_view without_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

ProgressView::Took ProgressView::take(std::string_view line) {
  line = without_cr(line);
  // Log lines are most of what passes: no parse for them.
  if (line.empty() || line.front() != '{') return Took::kNotProgress;
  std::optional<Message> m;
  try {
    m.emplace(decode(line, "a progress line"));
  } catch (const std::exception&) {
    return Took::kNotProgress;
  }
  if (m->type != "progress") return Took::kNotProgress;
  const json::Value& d = m->doc;
  std::string phase = d["phase"].GetString();
  Phase* p = phase == "disks" ? &disks_ : phase == "ram" ? &ram_ : nullptr;
  // "ram received" and phases to come: the source's lines say it all.
  if (!p) return Took::kIgnored;
  p->seen = true;
  p->done = d["done"].GetUint64();
  p->total = d["total"].GetUint64();
  p->rate = number_or_zero(d, "rate");
  const json::Value* final = json::find(d, "final");
  p->final = final && final->IsBool() && final->GetBool();
  if (p == &ram_) take_ram(d);
  return Took::kShown;
}

void ProgressView::take_ram(const json::Value& d) {
  auto remaining = u64_if_any(d, "remaining");
  double elapsed = number_or_zero(d, "elapsed");
  if (remaining && ram_remaining_ && *remaining < *ram_remaining_ && elapsed > ram_elapsed_) {
    double r = (*ram_remaining_ - *remaining) / (elapsed - ram_elapsed_);
    ram_sweep_rate_ = ram_sweep_rate_ == 0 ? r : 0.5 * ram_sweep_rate_ + 0.5 * r;
  }
  ram_remaining_ = remaining;
  ram_elapsed_ = elapsed;
  rounds_ = u64_if_any(d, "rounds").value_or(0);
  if (auto ms = u64_if_any(d, "expected_downtime_ms")) expected_downtime_ms_ = ms;
}

std::optional<double> ProgressView::eta() const {
  double seconds = 0;
  if (disks_.seen && !disks_.final && disks_.total > disks_.done) {
    if (disks_.rate <= 0) return std::nullopt;
    seconds += (disks_.total - disks_.done) / disks_.rate;
  }
  if (ram_.final) return seconds;
  double left = o_.ram_bytes;
  double rate = disks_.rate;
  if (ram_.seen) {
    left = ram_remaining_ ? *ram_remaining_ : ram_.total - std::min(ram_.done, ram_.total);
    if (ram_sweep_rate_ > 0)
      rate = ram_sweep_rate_;
    else if (ram_.rate > 0)
      rate = ram_.rate;
  }
  if (left > 0) {
    if (rate <= 0) return std::nullopt;
    seconds += left / rate;
  }
  return seconds;
}

std::string ProgressView::line() const {
  std::vector<std::string> parts;
  if (disks_.seen) {
    if (disks_.final)
      parts.push_back("disks " + amount(disks_.total) + " ready");
    else
      parts.push_back("disks " + amounts(disks_.done, disks_.total) +
                      (disks_.rate > 0 ? " " + rate_text(disks_.rate) : ""));
  }
  if (ram_.seen) {
    // What is clean at the destination: it shrinks again when the guest
    // dirties pages already sent, which the round number explains.
    std::uint64_t clean = ram_remaining_ ? ram_.total - std::min(*ram_remaining_, ram_.total)
                                         : std::min(ram_.done, ram_.total);
    int pct = ram_.final ? 100 : ram_.total ? static_cast<int>(100.0 * clean / ram_.total) : 0;
    std::string s = "RAM " + std::to_string(pct) + "%";
    if (!ram_.final && ram_.rate > 0) s += " " + rate_text(ram_.rate);
    if (!ram_.final && rounds_ > 1) s += " round " + std::to_string(rounds_);
    parts.push_back(s);
  } else if (o_.ram_bytes) {
    parts.push_back("RAM 0%");
  }
  if (parts.empty()) return "";
  auto eta_s = eta();
  parts.push_back("ETA " + (eta_s ? format_eta(*eta_s) : std::string("-:--")));
  // QEMU switches over only once the pause it expects fits the limit, and
  // it says the limit itself until it has measured the guest dirtying
  // anything: an estimate over the limit (or at it) is not the pause to
  // come, the limit is.
  bool estimated =
      expected_downtime_ms_ && (!o_.downtime_ms || *expected_downtime_ms_ < o_.downtime_ms);
  if (estimated)
    parts.push_back("pause ~" + std::to_string(*expected_downtime_ms_) + " ms");
  else if (o_.downtime_ms)
    parts.push_back("pause <=" + std::to_string(o_.downtime_ms) + " ms");
  std::string out = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) out += " | " + parts[i];
  return out;
}

std::string format_eta(double seconds) {
  // A rate near zero must not make a number no clock shows.
  constexpr double kMost = 99 * 3600 + 59 * 60 + 59;
  auto s = static_cast<long long>(std::ceil(std::clamp(seconds, 0.0, kMost)));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

}  // namespace lsm::proto

// Progress for one phase: a bar on a terminal, plain lines otherwise,
// "progress" messages with --json; always on stderr, since stdout carries
// data.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lsm::proto {

class Progress {
 public:
  Progress(std::string phase, bool json);
  // Reports done of total bytes; rate-limited, so call as often as you like.
  void update(std::uint64_t done, std::uint64_t total, const std::string& note = "");
  // The final figure, always printed.
  void finish(std::uint64_t done, std::uint64_t total, const std::string& note = "");
  // A figure of this phase's own that its JSON lines carry from now on
  // (docs/protocol.md 3.6), such as the pause QEMU expects; set it again to
  // change it.
  void set(const std::string& field, std::uint64_t value);

 private:
  void print(std::uint64_t done, std::uint64_t total, const std::string& note, bool last);

  std::string phase_;
  bool json_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_{};
  std::uint64_t last_done_ = 0;
  std::chrono::steady_clock::time_point last_sample_;
  double rate_ = 0;  // bytes/s, smoothed
  std::vector<std::pair<std::string, std::uint64_t>> figures_;
};

}  // namespace lsm::proto

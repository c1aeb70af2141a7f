// The progress of a whole migration as one line, made of the tools'
// progress messages (docs/protocol.md 3.6): the disks, the RAM, an ETA for
// everything still to send and the pause to expect, e.g.
//   disks 3.2/8.0 GiB 410 MiB/s | RAM 0% | ETA 0:14 | pause <=300 ms
// What it shows, and nothing of how, so that it can be tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "json/json.hpp"

namespace lsm::proto {

struct ViewOptions {
  // The guest's RAM (the vm message's config.memory), counted in the ETA
  // before its phase starts; 0 when unknown, and then the line has no RAM
  // until the RAM phase reports.
  std::uint64_t ram_bytes = 0;
  // The pause limit (--downtime), shown until QEMU expects a shorter
  // pause; 0: none, and QEMU's figure is shown as it is.
  std::uint64_t downtime_ms = 0;
};

class ProgressView {
 public:
  enum class Took {
    kNotProgress,  // any other line: the caller passes it on as it is
    kShown,        // a progress message the line now shows
    kIgnored,      // a progress message of a phase the line does not show
  };

  explicit ProgressView(const ViewOptions& o) : o_(o) {}

  // Takes one line of the tools' stderr, without its newline.
  Took take(std::string_view line);

  // The line as it stands; empty before anything it shows has reported.
  std::string line() const;

  // Seconds until everything is sent, at the rates measured so far:
  // the disks' remainder at their rate, and the RAM still to send (all of
  // it before its phase) at the rate it shrinks by, else at its bytes on
  // the wire, else at the disks' rate, since both travel the same link.
  // nullopt while a rate is unknown.
  std::optional<double> eta() const;

 private:
  struct Phase {
    bool seen = false;
    bool final = false;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    double rate = 0;  // bytes/s
  };

  ViewOptions o_;
  // Takes the RAM figures of one "ram" line.
  void take_ram(const json::Value& line);

  Phase disks_;
  Phase ram_;
  std::optional<std::uint64_t> ram_remaining_;
  double ram_elapsed_ = 0;  // the line's "elapsed" with that remaining
  // Bytes/s `remaining` shrinks by: zero pages go faster than the bytes on
  // the wire say. Measured between lines of one round (a new round makes
  // it grow), smoothed.
  double ram_sweep_rate_ = 0;
  std::uint64_t rounds_ = 0;
  std::optional<std::uint64_t> expected_downtime_ms_;
};

// "M:SS", or "H:MM:SS" from an hour on (99:59:59 at most); seconds are
// rounded up.
std::string format_eta(double seconds);

}  // namespace lsm::proto

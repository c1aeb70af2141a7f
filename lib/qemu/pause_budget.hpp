// How much of --downtime QEMU may spend on the RAM and device state left at
// the switchover. QEMU counts only the bytes it still has to send; the pause
// also holds what it already sent that has not crossed the link (our pipe
// and ssh's channel window), and the disk writes the mirrors have not copied
// yet, which are finished with the guest paused. Those go at the link's rate
// too, so QEMU gets --downtime less their time, measured as the migration
// goes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lsm::qemu {

// OpenSSH's window for a session channel (CHAN_SES_WINDOW_DEFAULT): what it
// sends ahead of the peer's reads, so what can be between us and the link's
// far end beyond our pipe. It is full when our pipe holds bytes: ssh takes
// them as fast as the link lets it.
inline constexpr std::uint64_t kSshChannelWindow = 2u << 20;

struct PauseFigures {
  std::uint64_t queued = 0;       // bytes of RAM stream in our pipe, not read by ssh yet
  std::uint64_t disk_behind = 0;  // bytes the mirrors still have to copy
  std::uint64_t link_rate = 0;    // bytes/s QEMU measured on its stream; 0: not yet known
};

class PauseBudget {
 public:
  explicit PauseBudget(std::uint64_t downtime_ms) : downtime_ms_(downtime_ms) {}

  // The downtime limit for QEMU now: --downtime less the time the bytes
  // ahead of it take at the link rate, but at least a tenth of --downtime
  // (QEMU needs some room to ever switch over). --downtime itself until a
  // rate is known.
  std::uint64_t limit_ms(const PauseFigures& f) const;

  // What QEMU is given at the start: the floor. QEMU switches over as soon
  // as what is left fits its limit, however much less a few more rounds
  // would leave; a guest that converges easily gets those rounds, and a
  // shorter pause for them.
  std::uint64_t first_aim_ms() const { return floor_ms(); }

  // At each look while the guest runs: the limit QEMU gets now, the aim
  // (doubled at each look, so a guest that does not converge low gets the
  // whole budget within a few looks) but never more than limit_ms. The aim
  // doubles from what QEMU was last given: a look held low by the bytes
  // ahead does not let the next one jump to the whole budget at once.
  std::uint64_t next_aim_ms(const PauseFigures& f);

  // Once, the first time the bytes ahead alone need more than --downtime:
  // what the operator is told, with the figures and what would help.
  std::optional<std::string> over(const PauseFigures& f);

 private:
  static std::uint64_t in_flight(const PauseFigures& f);
  std::uint64_t floor_ms() const { return downtime_ms_ / 10 > 0 ? downtime_ms_ / 10 : 1; }
  std::uint64_t ahead_ms(const PauseFigures& f) const;
  std::uint64_t downtime_ms_;
  std::uint64_t aim_ms_ = first_aim_ms();
  bool said_ = false;
};

}  // namespace lsm::qemu

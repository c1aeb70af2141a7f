// Phase 3: RAM and device state streamed from the source's device model,
// through the tools' stdout/stdin (and so through ssh), into the
// destination's. The disks' final consistent point is taken while the
// guest is paused, before any device state leaves.
#pragma once

#include <cstdint>

#include "phases/phases.hpp"

namespace lsm::phases {

struct RamSendOptions : SourceOptions {
  std::uint64_t downtime_ms = 300;
  std::uint64_t bandwidth = 0;  // bytes/s for the whole migration; 0: unlimited
  bool json = false;
};

// Source: streams to out_fd until the guest has switched over.
void send_ram(const RamSendOptions& o, int out_fd);

struct RamReceiveOptions : DestOptions {
  bool json = false;
};

// Destination: feeds the stream on in_fd to the VM here; writes a
// "result" with the figures to out_fd once the VM has taken it all.
void receive_ram(const RamReceiveOptions& o, int in_fd, int out_fd);

}  // namespace lsm::phases

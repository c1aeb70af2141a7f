// Phase 3: RAM and device state as a framed byte stream from the source
// QEMU, through the tools' stdout/stdin (and so through ssh), into the
// destination QEMU. The disks' final consistent point is taken while the
// guest is paused, before QEMU switches over (pause-before-switchover).
#pragma once

#include <cstdint>
#include <string>

namespace lsm::phases {

struct RamSendOptions {
  std::string name;
  std::string backend;  // "qemu" or "xen"
  std::string run_dir;
  std::uint64_t downtime_ms = 300;
  std::uint64_t bandwidth = 0;  // bytes/s; 0: unlimited
  bool json = false;
};

// Source: streams to out_fd until QEMU reports completion.
void send_ram(const RamSendOptions& o, int out_fd);

struct RamReceiveOptions {
  std::string name;
  std::string run_dir;
  bool json = false;
};

// Destination: feeds the stream on in_fd to the incoming QEMU; writes a
// "result" with the figures to out_fd once QEMU has taken it all.
void receive_ram(const RamReceiveOptions& o, int in_fd, int out_fd);

}  // namespace lsm::phases

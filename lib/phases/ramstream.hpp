// Phase 3 and the commit: RAM and device state streamed from the source's
// device model, through the tools' stdout/stdin (and so through ssh), into
// the destination's. The disks' final consistent point is taken while the
// guest is paused, before any device state leaves. Then, on the same
// channel and with no new process or ssh session inside the pause, the
// destination reports the VM ready and the source alone decides "go".
#pragma once

#include <cstdint>
#include <string>

#include "phases/phases.hpp"

namespace lsm::phases {

struct RamSendOptions : SourceOptions {
  std::uint64_t downtime_ms = 300;
  std::uint64_t bandwidth = 0;  // bytes/s for the whole migration; 0: unlimited
  // The longest pause before the source gives up and resumes the guest.
  std::uint64_t max_pause_ms = 30000;
  // Coordinate the commit: read the destination's answers on in_fd, say
  // "go", wait for it to run the guest. Without it the stream ends after
  // "ram-done" and the commit is left to lsm-resume.
  bool commit = false;
  std::uint64_t commit_timeout_ms = 60000;  // for the answer to "go"
  std::string report;  // with commit: the destination's results go here
  // Where the destination's ram_socket is reached (ssh's forward of it):
  // the stream goes there once the receiver's answers on in_fd say it
  // listens. Empty: frames on out_fd.
  std::string stream_socket;
  bool json = false;
};

// Source: streams to out_fd until the guest has switched over; with commit,
// coordinates it. Exit paths: returns once the destination runs the guest
// (or, without commit, once the stream is out); throws Error before "go"
// (the guest is resumed here first); throws IndeterminateError after "go"
// when the destination's answer did not come.
void send_ram(const RamSendOptions& o, int in_fd, int out_fd);

struct RamReceiveOptions : DestOptions {
  std::uint64_t go_timeout_ms = 60000;     // from "ready" to the source's "go"
  std::uint64_t idle_timeout_ms = 120000;  // a stream silent this long is dead
  // Also take the stream on RUN/lsm/NAME.ram (the exports' ram_socket),
  // saying ram-listening on out_fd first; the header says which one comes.
  bool listen = false;
  bool json = false;
};

// Destination: feeds the stream on in_fd to the VM here and writes the
// "ram" result ("ready") to out_fd; then, on "go", commits (see
// resume.hpp) and writes the "resume" result. A stream that ends without
// "go" leaves the VM received, paused and not committed.
void receive_ram(const RamReceiveOptions& o, int in_fd, int out_fd);

}  // namespace lsm::phases

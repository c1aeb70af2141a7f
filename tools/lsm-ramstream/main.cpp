// lsm-ramstream: phase 3, RAM and device state streamed live.
//   lsm-ramstream send NAME | ssh HOST lsm-ramstream receive NAME
#include <unistd.h>

#include "cli/main.hpp"
#include "phases/ramstream.hpp"
#include "xen/stream_check.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Phase 3 of a live migration with local disks: stream RAM and device "
               "state; finish the disk mirrors while the guest is paused.",
               "lsm-ramstream"};

  lsm::phases::RamReceiveOptions r;
  auto* recv =
      lsm::cli::dest_command(app, "receive", "Destination: feed the stream on stdin to QEMU", r);
  recv->add_option("--go-timeout", r.go_timeout_ms,
                   "ms to wait for the source's go once the VM is here (default 60000)")
      ->check(CLI::PositiveNumber);
  recv->add_option("--idle-timeout", r.idle_timeout_ms,
                   "ms of silence after which the stream counts as dead (default 120000)")
      ->check(CLI::PositiveNumber);
  recv->add_flag("--listen", r.listen,
                 "Also take the stream on RUN/lsm/NAME.ram, where the source's ssh forward "
                 "connects; say ram-listening on stdout first");
  lsm::cli::add_leave_paused_option(recv, r);
  lsm::cli::add_json_option(recv, r.json);
  lsm::cli::on_run(recv, [&] { lsm::phases::receive_ram(r, STDIN_FILENO, STDOUT_FILENO); });

  lsm::phases::RamSendOptions s;
  auto* send =
      lsm::cli::source_command(app, "send", "Source: write the migration stream to stdout", s);
  send->add_option("--downtime", s.downtime_ms, "Longest acceptable pause in ms (default 300)")
      ->check(CLI::PositiveNumber);
  lsm::cli::add_bandwidth_option(
      send, s.bandwidth, "MiB/s for the whole migration, shared with the mirrors (default: unlimited)");
  send->add_option("--max-pause", s.max_pause_ms,
                   "ms the guest may stay paused before the source gives up and resumes it "
                   "(default 30000)")
      ->check(CLI::PositiveNumber);
  send->add_flag("--commit", s.commit,
                 "Coordinate the commit: the destination's answers on stdin, go when it is ready");
  send->add_option("--commit-timeout", s.commit_timeout_ms,
                   "ms to wait for the destination to run the guest after go (default 60000)")
      ->check(CLI::PositiveNumber);
  send->add_option("--report", s.report, "With --commit: append the destination's results here");
  send->add_option("--stream-socket", s.stream_socket,
                   "Send the stream on this socket (the destination's RAM socket, forwarded) "
                   "once the answers on stdin say the receiver listens");
  lsm::cli::add_json_option(send, s.json);
  lsm::cli::on_run(send, [&] { lsm::phases::send_ram(s, STDIN_FILENO, STDOUT_FILENO); });

  auto* check = app.add_subcommand(
      "check", "Check a libxl v2 migration stream (Xen) on stdin against the format specs");
  lsm::cli::on_run(check, [] { lsm::xen::check_stream(STDIN_FILENO, STDOUT_FILENO); });

  return lsm::cli::run(app, argc, argv);
}

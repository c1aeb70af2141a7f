// lsm-ramstream: phase 3, RAM and device state streamed live.
//   lsm-ramstream send NAME | ssh HOST lsm-ramstream receive NAME
#include <unistd.h>

#include "cli/main.hpp"
#include "phases/ramstream.hpp"
#include "phases/xen_stream_check.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Phase 3 of a live migration with local disks: stream RAM and device "
               "state; finish the disk mirrors while the guest is paused.",
               "lsm-ramstream"};
  lsm::cli::add_common_options(app);

  lsm::phases::RamSendOptions s;
  double mib = 0;
  auto* send = app.add_subcommand("send", "Source: write the migration stream to stdout");
  send->add_option("NAME", s.name, "Domain name")->required();
  send->add_option("--run-dir", s.run_dir, "Run directory (default $LSM_RUN_DIR or /run/lsm)");
  send->add_option("--downtime", s.downtime_ms, "Longest acceptable pause in ms (default 300)")
      ->check(CLI::PositiveNumber);
  send->add_option("--bandwidth", mib,
                   "MiB/s for the whole migration, shared with the mirrors (default: unlimited)")
      ->check(CLI::NonNegativeNumber);
  send->add_flag("--json", s.json, "Progress as JSON lines on stderr");
  lsm::cli::add_backend_option(send, s.backend);
  lsm::cli::on_run(send, [&] {
    s.bandwidth = static_cast<std::uint64_t>(mib * 1024 * 1024);
    lsm::cli::resolve_backend(s.backend);
    lsm::phases::send_ram(s, STDOUT_FILENO);
  });

  lsm::phases::RamReceiveOptions r;
  auto* recv = app.add_subcommand("receive", "Destination: feed the stream on stdin to QEMU");
  recv->add_option("NAME", r.name, "Domain name")->required();
  recv->add_option("--run-dir", r.run_dir, "Run directory (default $LSM_RUN_DIR or /run/lsm)");
  recv->add_flag("--json", r.json, "Progress as JSON lines on stderr");
  lsm::cli::on_run(recv, [&] { lsm::phases::receive_ram(r, STDIN_FILENO, STDOUT_FILENO); });

  auto* check = app.add_subcommand(
      "check", "Check a libxl v2 migration stream (Xen) on stdin against the format specs");
  lsm::cli::on_run(check, [] { lsm::phases::check_xen_stream(STDIN_FILENO, STDOUT_FILENO); });

  return lsm::cli::run(app, argc, argv);
}

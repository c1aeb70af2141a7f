// lsm-mirror: phase 2, every disk mirrored to the destination over NBD.
//   ssh HOST lsm-mirror receive NAME | lsm-mirror send NAME --socket FWD
#include <unistd.h>

#include "cli/main.hpp"
#include "phases/mirror.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Phase 2 of a live migration with local disks: mirror every disk "
               "to the destination over NBD until all are READY.",
               "lsm-mirror"};
  lsm::cli::add_common_options(app);

  lsm::phases::ExportOptions e;
  auto* recv = app.add_subcommand(
      "receive", "Destination: export the target images on unix sockets, print where");
  recv->add_option("NAME", e.name, "Domain name")->required();
  recv->add_option("--run-dir", e.run_dir, "Run directory (default $LSM_RUN_DIR or /run/lsm)");
  lsm::cli::on_run(recv, [&] { lsm::phases::export_disks(e, STDOUT_FILENO); });

  lsm::phases::MirrorOptions m;
  double mib = 0;
  auto* send = app.add_subcommand(
      "send", "Source: read the exports on stdin, mirror every disk, return when all are READY");
  send->add_option("NAME", m.name, "Domain name")->required();
  send->add_option("--run-dir", m.run_dir, "Run directory (default $LSM_RUN_DIR or /run/lsm)");
  auto* sock = send->add_option("--socket", m.socket,
                                "Local unix socket reaching the destination's NBD server");
  send->add_option("--socket-dir", m.socket_dir,
                   "Directory of local sockets named like the destination's NBD sockets")
      ->excludes(sock);
  lsm::cli::add_backend_option(send, m.backend);
  send->add_option("--bandwidth", mib, "MiB/s for all disks together (default: unlimited)")
      ->check(CLI::NonNegativeNumber);
  send->add_flag("--write-blocking", m.write_blocking,
                 "Guest writes wait for the destination (for guests that outwrite the link)");
  send->add_flag("--json", m.json, "Progress as JSON lines on stderr");
  lsm::cli::on_run(send, [&] {
    m.bandwidth = static_cast<std::uint64_t>(mib * 1024 * 1024);
    lsm::cli::resolve_backend(m.backend);
    lsm::phases::mirror_disks(m, STDIN_FILENO);
  });

  return lsm::cli::run(app, argc, argv);
}

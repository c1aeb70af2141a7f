// lsm-mirror: phase 2, every disk mirrored to the destination over NBD.
//   ssh HOST lsm-mirror receive NAME | lsm-mirror send NAME --socket FWD
#include <unistd.h>

#include "cli/main.hpp"
#include "phases/mirror.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Phase 2 of a live migration with local disks: mirror every disk "
               "to the destination over NBD until all are READY.",
               "lsm-mirror"};

  lsm::phases::DestOptions e;
  lsm::cli::on_run(
      lsm::cli::dest_command(app, "receive",
                             "Destination: export the target images on unix sockets, print where",
                             e),
      [&] { lsm::phases::export_disks(e, STDOUT_FILENO); });

  lsm::phases::MirrorOptions m;
  auto* send = lsm::cli::source_command(
      app, "send", "Source: read the exports on stdin, mirror every disk, return when all are READY",
      m);
  auto* sock = send->add_option("--socket", m.socket,
                                "Local unix socket reaching the destination's NBD server");
  send->add_option("--socket-dir", m.socket_dir,
                   "Directory of local sockets named like the destination's NBD sockets")
      ->excludes(sock);
  lsm::cli::add_bandwidth_option(send, m.bandwidth,
                                 "MiB/s for all disks together (default: unlimited)");
  send->add_flag("--write-blocking", m.write_blocking,
                 "Guest writes wait for the destination (for guests that outwrite the link)");
  lsm::cli::add_json_option(send, m.json);
  lsm::cli::on_run(send, [&] { lsm::phases::mirror_disks(m, STDIN_FILENO); });

  return lsm::cli::run(app, argc, argv);
}

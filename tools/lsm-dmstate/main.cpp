// lsm-dmstate: phase 1, what the destination needs to host the VM.
//   source:       lsm-dmstate send NAME | ssh HOST lsm-dmstate receive
#include <unistd.h>

#include "cli/main.hpp"
#include "phases/dmstate.hpp"
#include "phases/logs.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Phase 1 of a live migration with local disks: describe the VM on "
               "the source, prepare the destination to host it.",
               "lsm-dmstate"};

  lsm::phases::PrepareOptions p;
  auto* recv = app.add_subcommand(
      "receive", "Destination: read a description on stdin, create images (and start QEMU)");
  lsm::cli::add_run_dir_option(recv, p.run_dir);
  recv->add_option("--map", p.maps, "Rewrite path prefix OLD to NEW (OLD=NEW), repeatable");
  recv->add_flag("--reuse", p.reuse, "Use existing target images of the same size and format");
  recv->add_flag("--dry-run", p.dry_run, "Print the plan; create and start nothing");
  recv->add_option("--policy", p.policy_file,
                   "Host policy file (default: $LSM_POLICY, else /etc/lsm/policy.conf)");
  lsm::cli::on_run(recv, [&] { lsm::phases::prepare(p, STDIN_FILENO, STDOUT_FILENO); });

  lsm::phases::DescribeOptions d;
  auto* send =
      lsm::cli::source_command(app, "send", "Source: write the VM's description to stdout", d);
  send->add_option("--shared-disk", d.request.shared_disks,
                   "A disk both hosts already see; not copied");
  send->add_option("--config", d.request.config_file,
                   "Xen: the configuration file the destination uses instead of the domain's "
                   "(xl migrate -C); it names each disk's path there");
  send->add_flag("--dry-run", d.dry_run, "Describe only; start no migration record");
  lsm::cli::on_run(send, [&] { lsm::phases::describe(d, STDOUT_FILENO); });

  lsm::phases::SourceOptions l;
  auto* logs = lsm::cli::source_command(
      app, "logs", "Print this host's logs of the VM's device model and NBD servers (--debug)", l);
  lsm::cli::on_run(logs, [&] { lsm::phases::print_logs(l, STDOUT_FILENO); });

  return lsm::cli::run(app, argc, argv);
}

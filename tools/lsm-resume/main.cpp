// lsm-resume: phase 4, resume on the destination and release the source,
// or roll back so the VM keeps running on the source.
//   ssh HOST lsm-resume receive NAME && lsm-resume send NAME --quit
//   ssh HOST lsm-resume receive NAME --rollback; lsm-resume send NAME --rollback
#include <unistd.h>

#include "cli/main.hpp"
#include "core/error.hpp"
#include "phases/resume.hpp"
#include "phases/rollback.hpp"
#include "vm/names.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Phase 4 of a live migration with local disks: commit on the "
               "destination and release the source, or roll back.",
               "lsm-resume"};
  lsm::cli::add_common_options(app);

  std::string name, run_dir, backend;
  bool rollback = false, quit = false;

  auto* recv = app.add_subcommand("receive", "Destination: resume the guest here (the commit)");
  recv->add_option("NAME", name, "Domain name")->required();
  recv->add_option("--run-dir", run_dir, "Run directory (default $LSM_RUN_DIR or /run/lsm)");
  recv->add_flag("--rollback", rollback,
                 "Instead: stop the incoming QEMU or domain, delete the images this migration created");
  lsm::cli::on_run(recv, [&] {
    if (rollback)
      lsm::phases::rollback_destination(lsm::vm::run_dir(run_dir), name);
    else
      lsm::phases::resume_destination(run_dir, name, STDOUT_FILENO);
  });

  auto* send = app.add_subcommand("send", "Source: quit after the commit, or roll back");
  send->add_option("NAME", name, "Domain name")->required();
  send->add_option("--run-dir", run_dir, "Run directory (default $LSM_RUN_DIR or /run/lsm)");
  auto* q = send->add_flag("--quit", quit, "The destination runs the guest: quit the source QEMU (destroy the Xen domain)");
  auto* r = send->add_flag("--rollback", rollback,
                           "Cancel migration and mirrors, keep the guest running here");
  q->excludes(r);
  lsm::cli::add_backend_option(send, backend);
  lsm::cli::on_run(send, [&] {
    if (!quit && !rollback) throw lsm::UsageError("send: give --quit or --rollback");
    lsm::cli::resolve_backend(backend);
    if (rollback)
      lsm::phases::rollback_source(lsm::vm::run_dir(run_dir), name, backend);
    else
      lsm::phases::quit_source(run_dir, name, backend);
  });

  return lsm::cli::run(app, argc, argv);
}

// lsm-resume: phase 4, resume on the destination and release the source,
// or roll back so the VM keeps running on the source.
//   ssh HOST lsm-resume receive NAME && lsm-resume send NAME --quit &&
//       ssh HOST lsm-resume receive NAME --release
//   ssh HOST lsm-resume receive NAME --rollback; lsm-resume send NAME --rollback
// (lsm-migrate.sh commits inside phase 3 instead: lsm-ramstream --commit.)
#include <unistd.h>

#include "cli/main.hpp"
#include "phases/resume.hpp"
#include "phases/rollback.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Phase 4 of a live migration with local disks: commit on the "
               "destination and release the source, or roll back.",
               "lsm-resume"};
  bool rollback = false, quit = false, release = false;

  lsm::phases::DestOptions d;
  auto* recv =
      lsm::cli::dest_command(app, "receive", "Destination: resume the guest here (the commit)", d);
  auto* rb = recv->add_flag(
      "--rollback", rollback,
      "Instead: stop the incoming QEMU or domain, delete the images this migration created "
      "(exit 3 if it was committed here)");
  auto* rel = recv->add_flag("--release", release,
                             "Instead: the source copy is gone, forget the commit")
                  ->excludes(rb);
  lsm::cli::add_leave_paused_option(recv, d)
      ->excludes(rb)
      ->excludes(rel);
  lsm::cli::on_run(recv, [&] {
    if (rollback)
      lsm::phases::rollback_destination(d);
    else if (release)
      lsm::phases::release_destination(d);
    else
      lsm::phases::resume_destination(d, STDOUT_FILENO);
  });

  lsm::phases::SourceRollbackOptions s;
  auto* send =
      lsm::cli::source_command(app, "send", "Source: quit after the commit, or roll back", s);
  auto* q = send->add_flag("--quit", quit, "The destination runs the guest: quit the source QEMU (destroy the Xen domain)");
  auto* r = send->add_flag("--rollback", rollback,
                           "Cancel migration and mirrors, keep the guest running here");
  send->add_flag("--not-committed", s.not_committed,
                 "With --rollback after go: the destination's rollback answered that it did "
                 "not commit")
      ->needs(r);
  q->excludes(r);
  lsm::cli::on_run(send, [&] {
    if (!quit && !rollback) throw lsm::UsageError("send: give --quit or --rollback");
    if (rollback)
      lsm::phases::rollback_source(s);
    else
      lsm::phases::quit_source(s);
  });

  return lsm::cli::run(app, argc, argv);
}

// lsm-progress: the progress of a whole migration as one line on a
// terminal, drawn from the tools' --json progress lines on its stdin; every
// other line passes through as it is. lsm-migrate.sh feeds it all of its
// stderr when that is a terminal:
//   lsm-mirror send NAME --json ... 2>&1 | lsm-progress view --ram BYTES
#include <signal.h>
#include <unistd.h>

#include "cli/main.hpp"
#include "proto/progress_filter.hpp"

int main(int argc, char** argv) {
  CLI::App app{"The progress of a live migration with local disks as one line: disks, RAM, "
               "the time left and the expected pause.",
               "lsm-progress"};

  lsm::proto::ViewOptions o;
  auto* view = app.add_subcommand(
      "view", "Read the tools' stderr on stdin; draw their progress lines as one line on stdout, "
              "pass every other line");
  view->add_option("--ram", o.ram_bytes,
                   "The guest's RAM in bytes, counted in the ETA before its phase starts");
  view->add_option("--downtime", o.downtime_ms,
                   "The pause limit in ms, shown until QEMU expects a shorter pause");
  lsm::cli::on_run(view, [&] {
    // It lives as long as its input: an orchestrator's rollback messages,
    // after a Ctrl-C, still come through it.
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_IGN);
    lsm::proto::StatusLine out(STDOUT_FILENO, lsm::proto::smart_terminal(STDOUT_FILENO));
    lsm::proto::filter_progress(STDIN_FILENO, out, o);
  });

  return lsm::cli::run(app, argc, argv);
}

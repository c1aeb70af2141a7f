#include "cli/main.hpp"

#include <signal.h>

#include "backend/choose.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#ifndef LSM_VERSION
#define LSM_VERSION "unknown"
#endif

namespace lsm::cli {

namespace {

std::function<void()> g_work;
int g_verbose = 0;

void add_common_options(CLI::App& app) {
  app.set_version_flag("--version", std::string(app.get_name()) + " " + LSM_VERSION);
  app.add_flag("-v,--verbose", g_verbose, "More output (repeat for debug)");
  app.require_subcommand(0, 1);
}

}  // namespace

void add_run_dir_option(CLI::App* sub, std::string& run_dir) {
  sub->add_option("--run-dir", run_dir, "Run directory (default $LSM_RUN_DIR or /run/lsm)");
}

CLI::App* source_command(CLI::App& app, const std::string& name, const std::string& help,
                         phases::SourceOptions& o) {
  CLI::App* sub = app.add_subcommand(name, help);
  sub->add_option("NAME", o.name, "Domain name (QEMU -name, or the Xen domain's name)")
      ->required();
  add_run_dir_option(sub, o.run_dir);
  sub->add_option_function<std::string>(
         "--backend", [&o](const std::string& s) { o.backend = backend::kind_named(s); },
         "qemu or xen (default: xen on a Xen dom0, else qemu)")
      ->check(CLI::IsMember(backend::kind_names()));
  return sub;
}

CLI::App* dest_command(CLI::App& app, const std::string& name, const std::string& help,
                       phases::DestOptions& o) {
  CLI::App* sub = app.add_subcommand(name, help);
  sub->add_option("NAME", o.name, "Domain name")->required();
  add_run_dir_option(sub, o.run_dir);
  return sub;
}

CLI::Option* add_leave_paused_option(CLI::App* sub, phases::DestOptions& o) {
  return sub->add_flag("--paused", o.leave_paused,
                       "The commit leaves the guest paused here (as xl migrate -p)");
}

void add_json_option(CLI::App* sub, bool& json) {
  sub->add_flag("--json", json, "Progress as JSON lines on stderr");
}

void add_bandwidth_option(CLI::App* sub, std::uint64_t& bytes_per_s, const std::string& help) {
  sub->add_option_function<double>(
         "--bandwidth",
         [&bytes_per_s](double mib) {
           bytes_per_s = static_cast<std::uint64_t>(mib * 1024 * 1024);
         },
         help)
      ->check(CLI::NonNegativeNumber);
}

void on_run(CLI::App* sub, std::function<void()> work) {
  // -v may come after the subcommand too, as lsm-migrate.sh passes it.
  sub->fallthrough();
  sub->callback([w = std::move(work)] { g_work = w; });
}

int run(CLI::App& app, int argc, char** argv) {
  add_common_options(app);
  log::set_program(app.get_name());
  // A dead peer must surface as an EPIPE error with context, not a silent
  // death by signal.
  ::signal(SIGPIPE, SIG_IGN);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    log::error(std::string(e.what()) + " (try --help)");
    return kExitUsage;
  }
  log::set_verbosity(g_verbose);
  if (!g_work) {
    log::error("no subcommand given (try --help)");
    return kExitUsage;
  }
  try {
    g_work();
    return kExitOk;
  } catch (const std::exception& e) {
    log::error(describe(e));
    return exit_status_for(e);
  }
}

}  // namespace lsm::cli

#include "cli/main.hpp"

#include <signal.h>

#include "core/error.hpp"
#include "core/log.hpp"
#include "xen/libxl_ctx.hpp"

#ifndef LSM_VERSION
#define LSM_VERSION "unknown"
#endif

namespace lsm::cli {

namespace {

std::function<void()> g_work;
int g_verbose = 0;

}  // namespace

void add_common_options(CLI::App& app) {
  app.set_version_flag("--version", std::string(app.get_name()) + " " + LSM_VERSION);
  app.add_flag("-v,--verbose", g_verbose, "More output (repeat for debug)");
  app.require_subcommand(0, 1);
  // -v may come after the subcommand too, as lsm-migrate.sh passes it.
  app.fallthrough();
}

void add_backend_option(CLI::App* sub, std::string& backend) {
  sub->add_option("--backend", backend, "qemu or xen (default: xen on a Xen dom0, else qemu)")
      ->check(CLI::IsMember({"qemu", "xen"}));
}

void resolve_backend(std::string& backend) {
  if (backend.empty()) backend = xen::is_dom0() ? "xen" : "qemu";
}

void on_run(CLI::App* sub, std::function<void()> work) {
  sub->callback([w = std::move(work)] { g_work = w; });
}

int run(CLI::App& app, int argc, char** argv) {
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

// What every tool's main() shares: CLI11 wiring of the common options and
// the mapping of exceptions to one stderr line and an exit status.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace lsm::cli {

// Adds --version and -v/--verbose (repeatable) to app.
void add_common_options(CLI::App& app);

// Parses argv into app, then runs whichever subcommand callback was chosen.
// Usage errors exit 2 naming the offending argument; lsm::Error chains print
// as one line; see core/error.hpp for the statuses.
int run(CLI::App& app, int argc, char** argv);

// Adds --backend qemu|xen to a source-side subcommand. An unset backend
// means the host's: xen on a Xen dom0, qemu elsewhere; resolve_backend
// fills it in.
void add_backend_option(CLI::App* sub, std::string& backend);
void resolve_backend(std::string& backend);

// Wraps a subcommand's work so callbacks stay one line.
void on_run(CLI::App* sub, std::function<void()> work);

}  // namespace lsm::cli

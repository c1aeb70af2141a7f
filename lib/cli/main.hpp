// What every tool's main() shares: CLI11 wiring of the common options and
// the mapping of exceptions to one stderr line and an exit status.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "phases/phases.hpp"

namespace lsm::cli {

// Adds the options every tool has (--version, -v/--verbose), parses argv
// into app, then runs whichever subcommand callback was chosen. Usage
// errors exit 2 naming the offending argument; lsm::Error chains print as
// one line; see core/error.hpp for the statuses.
int run(CLI::App& app, int argc, char** argv);

// A subcommand for a step on the source host, with NAME, --run-dir and
// --backend qemu|xen (the backend keeps its default, the host's, unless
// the option is given).
CLI::App* source_command(CLI::App& app, const std::string& name, const std::string& help,
                         phases::SourceOptions& o);
// A subcommand for a step on the destination host, with NAME and --run-dir.
CLI::App* dest_command(CLI::App& app, const std::string& name, const std::string& help,
                       phases::DestOptions& o);
void add_run_dir_option(CLI::App* sub, std::string& run_dir);
// --paused: the destination's commit leaves the guest paused.
CLI::Option* add_leave_paused_option(CLI::App* sub, phases::DestOptions& o);
// --json: progress as JSON lines on stderr.
void add_json_option(CLI::App* sub, bool& json);
// --bandwidth MiB/s, stored as bytes/s.
void add_bandwidth_option(CLI::App* sub, std::uint64_t& bytes_per_s, const std::string& help);

// Wraps a subcommand's work so callbacks stay one line.
void on_run(CLI::App* sub, std::function<void()> work);

}  // namespace lsm::cli

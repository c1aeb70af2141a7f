// A QEMU command line as options rather than strings: `-name value` and
// `-flag`, and the `key=value,...` lists inside values. The destination
// checks the parsed form and rebuilds its command line from it, so what
// QEMU reads there is exactly what was checked.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lsm::qemu {

struct Option {
  std::string name;                  // without the dash: "drive", "S"
  std::optional<std::string> value;  // none for a flag
};

struct Cmdline {
  std::string program;
  std::vector<Option> options;
};

// Whether QEMU reads a value after the option name (everything but its
// flags: -S, -nodefaults, -daemonize, ...).
bool takes_value(const std::string& name);

// Splits argv into options; "--opt" is QEMU's synonym of "-opt". Throws on
// an argument that is neither an option nor its value.
Cmdline parse_cmdline(const std::vector<std::string>& argv);

// The argv that parse_cmdline reads back as cmd.
std::vector<std::string> to_argv(const Cmdline& cmd);

// One item of a "key=value,..." value. An item without '=' (the backend
// in "file,id=c0,path=/x", a CPU flag) has an empty key. ",," is a comma
// inside a value.
struct SubOption {
  std::string key;
  std::string value;
};
std::vector<SubOption> split_suboptions(const std::string& value);

}  // namespace lsm::qemu

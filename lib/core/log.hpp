// One line per message on stderr, prefixed with the tool and, on the
// destination, its role, so an orchestrator's merged stderr reads clearly.
// stdout is never used: it carries data between the tools.
#pragma once

#include <string>

namespace lsm::log {

void set_program(std::string name);
void set_verbosity(int level);  // 0: errors and notices, 1: info, 2: debug
int verbosity();

void error(const std::string& msg);
void notice(const std::string& msg);
void info(const std::string& msg);
void debug(const std::string& msg);

}  // namespace lsm::log

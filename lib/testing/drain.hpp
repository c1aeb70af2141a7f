// What a test's peer wrote to a descriptor, read to its end: the other side
// of a pipe or socket the code under test writes to, usually on a thread.
#pragma once

#include <string>

#include "core/fd_io.hpp"

namespace lsm::testing {

inline std::string drain(int fd) {
  FdReader in(fd, "the test's descriptor");
  std::string out;
  for (std::string s; !(s = in.read_some(1 << 20, Deadline::never())).empty();) out += s;
  return out;
}

}  // namespace lsm::testing

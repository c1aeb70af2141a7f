// A scripted peer on one end of a socketpair, for protocol edge cases that
// a real QEMU won't produce on demand (garbage, truncation, silence).
#pragma once

#include <functional>
#include <string>
#include <thread>

#include "core/unique_fd.hpp"

namespace lsm::testing {

inline constexpr const char* kGreeting =
    R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": []}})";

class FakePeer {
 public:
  // Runs script(fd) in a thread with the peer's end of the socketpair.
  explicit FakePeer(std::function<void(int)> script);
  ~FakePeer();
  // Our end, to hand to the code under test.
  UniqueFd take_client_end();

  static void send(int fd, const std::string& text);
  // The next line the client sent; empty at end of stream.
  static std::string read_line(int fd);
  // Greets and acknowledges qmp_capabilities.
  static void negotiate(int fd);
  // The "id" member of a command line.
  static std::string id_of(const std::string& line);

 private:
  UniqueFd client_;
  UniqueFd peer_;
  std::thread thread_;
};

}  // namespace lsm::testing

// A backend for the phase layer's unit tests, in the spirit of ninja's
// VirtualFileSystem: it records every operation the phases call, in order,
// and throws at the one named in fail_at, so a test pins both the order of
// the steps and what is rolled back after a failure at any of them. It
// touches no hypervisor; everything real is tested through the tools.
#pragma once

#include <string>
#include <vector>

#include "backend/backend.hpp"

namespace lsm::testing {

class ScriptedBackend {
 public:
  // Bytes the sender puts between "ram-stream" and "ram-done", and the
  // receiver takes.
  static constexpr const char* kPayload = "RAMBYTES";

  ScriptedBackend();
  ScriptedBackend(const ScriptedBackend&) = delete;
  ScriptedBackend& operator=(const ScriptedBackend&) = delete;

  // The operations the phases call; each records itself in calls.
  const backend::Backend& table() const { return table_; }

  std::vector<std::string> calls;
  std::string fail_at;
  // Thrown at fail_at: an Error, or IndeterminateError when set.
  bool fail_indeterminate = false;
  backend::RamLimits limits_seen;

  // Records op; throws if it is the one to fail.
  void step(const std::string& op);

 private:
  backend::Backend table_;
};

}  // namespace lsm::testing

#include "core/error.hpp"

#include <cstring>

namespace lsm {

SystemError::SystemError(const std::string& what, int err)
    : Error(what + ": " + std::strerror(err)), code_(err) {}

namespace {

template <typename Visit>
void walk(const std::exception& e, Visit&& visit) {
  visit(e);
  try {
    std::rethrow_if_nested(e);
  } catch (const std::exception& inner) {
    walk(inner, visit);
  } catch (...) {
    // A nested non-std exception has no message to add.
  }
}

}  // namespace

std::string describe(const std::exception& e) {
  std::string out;
  walk(e, [&](const std::exception& x) {
    if (!out.empty()) out += ": ";
    out += x.what();
  });
  return out;
}

int exit_status_for(const std::exception& e) {
  int status = kExitFailed;
  walk(e, [&](const std::exception& x) {
    if (dynamic_cast<const IndeterminateError*>(&x))
      status = kExitIndeterminate;
    else if (dynamic_cast<const UsageError*>(&x) && status != kExitIndeterminate)
      status = kExitUsage;
  });
  return status;
}

}  // namespace lsm

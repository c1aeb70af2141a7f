// One lsm tool at a time changes a VM's state on a host: each holds
// RUN/lsm/NAME.lock (flock) for its whole run, so a rollback can never
// interleave with a commit, nor two migrations of one VM with each other.
#pragma once

#include <chrono>
#include <string>

#include "core/unique_fd.hpp"

namespace lsm::vm {

class DomainLock {
 public:
  // Waits up to wait for the tool holding it, then throws naming its pid.
  DomainLock(const std::string& run_dir, const std::string& name,
             std::chrono::seconds wait = std::chrono::seconds(60));

 private:
  UniqueFd fd_;
};

}  // namespace lsm::vm

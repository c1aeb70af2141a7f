// Phase 1: what the destination needs to host the VM.
//
// The source describes the VM as a "vm" message; the destination checks it
// can host it, creates sparse target images and readies the backend for
// the incoming migration, then answers with "prepared".
#pragma once

#include <string>
#include <vector>

#include "phases/phases.hpp"

namespace lsm::phases {

struct DescribeOptions : SourceOptions {
  backend::DescribeRequest request;
  bool dry_run = false;  // describe only: start no migration record
};

// Writes the "vm" message for the named VM to out_fd and starts the
// source's record of the migration (vm/source_state.hpp); refuses while an
// earlier migration of the VM is unsettled on this host.
void describe(const DescribeOptions& o, int out_fd);

struct PrepareOptions {
  std::string run_dir;
  std::string policy_file;  // empty: $LSM_POLICY, else policy::kDefaultPath
  std::vector<std::string> maps;
  bool reuse = false;
  bool dry_run = false;
  backend::BackendFor backends = backend::backend_for;
};

// Reads a "vm" message from in_fd, prepares this host and writes
// "prepared" to out_fd (with dry_run: the plan, and nothing changes).
// What the message asks this host to create or run is checked against the
// host policy (policy/policy.hpp) before anything is created. On failure
// everything it created is removed again.
void prepare(const PrepareOptions& o, int in_fd, int out_fd);

}  // namespace lsm::phases

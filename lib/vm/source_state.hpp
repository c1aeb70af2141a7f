// What the source remembers between its tools: whether the guest ran
// before migration (so a rollback restores exactly that) and how many
// mirror jobs phase 2 started (so phase 3 never switches over a VM whose
// disks are not all being mirrored).
#pragma once

#include <optional>
#include <string>

namespace lsm::vm {

struct SourceState {
  bool was_running = false;
  int mirrors = 0;
};

void save_source_state(const std::string& run_dir, const std::string& name,
                       const SourceState& s);
// nullopt when no migration of name is in progress on this host.
std::optional<SourceState> load_source_state(const std::string& run_dir,
                                             const std::string& name);
void clear_source_state(const std::string& run_dir, const std::string& name);

}  // namespace lsm::vm

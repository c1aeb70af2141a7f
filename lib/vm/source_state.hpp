// The source's record of a migration in progress, RUN/lsm/NAME.source.json:
// created by phase 1 (so a second migration of the VM, or a retry after an
// interrupted one, is refused until it is recovered), completed by phase 2
// and, before the destination may run the guest, marked "go" (so that no
// rollback resumes the source copy without the destination's word).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace lsm::vm {

struct SourceState {
  bool was_running = false;        // the guest's run state to restore
  std::vector<std::string> disks;  // keys of the disks to mirror (phase 1)
  bool mirrored = false;           // phase 2 started its mirrors
  std::vector<std::string> mirrors; // keys of the disks mirrored, in job order
  bool go = false;                 // the destination was told to run the guest
};

// Throws naming the recovery if a record exists.
void refuse_if_in_progress(const std::string& run_dir, const std::string& name);
// Creates the record; throws as refuse_if_in_progress if one exists.
void begin_source_state(const std::string& run_dir, const std::string& name,
                        const SourceState& s);
void save_source_state(const std::string& run_dir, const std::string& name,
                       const SourceState& s);
// nullopt when no migration of name is in progress on this host.
std::optional<SourceState> load_source_state(const std::string& run_dir,
                                             const std::string& name);
void clear_source_state(const std::string& run_dir, const std::string& name);

// What a message names to finish or undo an interrupted migration.
std::string recovery_hint(const std::string& name);

}  // namespace lsm::vm

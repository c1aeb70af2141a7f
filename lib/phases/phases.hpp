// The phase layer: one migration, step by step, the same for every
// backend. Read this first.
//
// scripts/lsm-migrate.sh runs on the source (SRC) and chains the four tools
// to the destination (DST) over one ssh connection, like xl migrate. Each
// tool's subcommand is one function here; each calls its backend (see
// backend/backend.hpp) only for what differs between QEMU and Xen. What
// they share lives here: the order, the messages (proto/messages.hpp), the
// state files (vm/), the checks and the bandwidth split.
//
//   1 SRC describe            backend.describe; no foreign block job      -> "vm"
//     DST prepare             backend.plan_destination (can this host?),
//                             plan_targets (paths, space), state file,
//                             create_images, backend.start_destination    -> "prepared"
//   2 DST export_disks        backend.export_disks (NBD on unix sockets)  -> "exports"
//     SRC mirror_disks        source state file, mirror::run_until_ready:
//                             returns once every disk is READY
//   3 SRC send_ram            mirrors READY and given half --bandwidth,
//                             backend.ram_sender (the other half)         -> "ram-stream"
//                             sender.send: RAM live, then the guest
//                             pauses, every mirror is finished (the
//                             disks' consistent point), device state      -> frames
//                                                                         -> "ram-done"
//     DST receive_ram         backend.receive_ram                         -> "result"
//   4 DST resume_destination  backend.resume, then the state file goes:
//                             THE COMMIT POINT                            -> "result"
//     SRC quit_source         backend.quit_source, source state file goes
//
// Before the commit, any failure rolls back (rollback.hpp): SRC cancels the
// migration and the mirrors and resumes the guest if lsm paused it; DST
// stops what phases 1-2 started and deletes exactly the images its state
// file lists. A step that fails inside a tool undoes its own part first
// (prepare removes what it created, the mirrors remove their jobs). After
// the commit the destination's copy is the VM: DST's rollback refuses it
// (IndeterminateError, exit 3) while it may run there.
#pragma once

#include <string>

#include "backend/backend.hpp"
#include "backend/choose.hpp"

namespace lsm::phases {

// A step on the source host, where the operator (or --backend) says which
// backend holds the VM.
struct SourceOptions {
  std::string name;
  backend::Kind backend = backend::host_kind();
  std::string run_dir;  // empty: $LSM_RUN_DIR, else /run/lsm
  backend::BackendFor backends = backend::backend_for;
};

// A step on the destination host, where phase 1's state file says which
// backend prepared the VM.
struct DestOptions {
  std::string name;
  std::string run_dir;
  backend::BackendFor backends = backend::backend_for;
};

// The VM a step works on: its name checked, the run directory resolved.
backend::VmRef vm_ref(const std::string& name, const std::string& run_dir);

// Phase 1's record on the destination; throws if there is none.
vm::DestState load_incoming(const backend::VmRef& vm);

}  // namespace lsm::phases

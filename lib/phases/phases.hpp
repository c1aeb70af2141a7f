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
//   1 SRC describe            backend.describe; no foreign block job;
//                             starts the migration record (source.json)   -> "vm"
//     DST prepare             destination.plan (can this host? does its
//                             policy allow it?), plan_targets (image
//                             roots, paths, space), state file,
//                             create_images, destination.start            -> "prepared"
//   2 DST export_disks        destination.export_disks (NBD, unix sockets)-> "exports"
//     SRC mirror_disks        exports == the disks phase 1 found;
//                             mirror::run_until_ready: every disk READY
//   3 SRC send_ram            mirrors READY and given half --bandwidth,
//                             source.ram_sender (the other half)          -> "ram-stream"
//                             sender.send: RAM live (mirrors watched),
//                             the guest pauses, every mirror finishes
//                             (the disks' consistent point), device state -> frames
//                             (QEMU: its own bytes on the destination's
//                             RAM socket, "ram-sent" on the pipe)         -> "ram-done"
//     DST receive_ram         destination.receive_ram (or _socket): the
//                             VM is here                                  -> "result" ready
//     SRC (--commit)          within --max-pause of the pause: record go  -> "go"
//     DST commit_destination  check_resumable, COMMIT MARKER (durable),
//                             destination.resume, state file goes         -> "result" runs
//   4 SRC quit_source         source.quit, the record goes
//     DST release_destination the commit marker goes
//
// The commit point is the destination's marker, written only on the
// source's "go". Before "go" any failure rolls back (rollback.hpp): SRC
// cancels the migration and the mirrors and resumes the guest if lsm
// paused it (send_ram does so at once when it fails); DST stops what phases
// 1-2 started and deletes exactly the images its state file lists. After
// "go" only the destination can tell: its rollback refuses while the
// marker exists (the copy there is the VM: finish phase 4), and otherwise
// undoes everything, after which the source may resume (--not-committed).
// Every step holds the VM's lock on its host (vm/lock.hpp) and a step that
// fails inside a tool undoes its own part first.
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
  // The commit leaves the guest paused here (xl migrate -p).
  bool leave_paused = false;
  backend::BackendFor backends = backend::backend_for;
};

// The VM a step works on: its name checked, the run directory resolved.
backend::VmRef vm_ref(const std::string& name, const std::string& run_dir);

// Phase 1's record on the destination; throws if there is none.
vm::DestState load_incoming(const backend::VmRef& vm);

}  // namespace lsm::phases

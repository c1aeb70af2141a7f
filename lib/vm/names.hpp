// Domain names and the run-directory layout both hosts agree on.
//
// A QEMU VM is migratable when started with -name NAME and
// -qmp unix:$LSM_RUN_DIR/qemu/NAME.qmp,server=on,wait=off. lsm keeps its
// own per-migration files in $LSM_RUN_DIR/lsm/.
#pragma once

#include <string>

namespace lsm::vm {

// Throws UsageError unless name is safe to use as a file name component.
void validate_name(const std::string& name);

// --run-dir if given, else $LSM_RUN_DIR, else /run/lsm.
std::string run_dir(const std::string& option);

std::string qmp_socket(const std::string& run_dir, const std::string& name);
// Created mode 0700; an existing one (and RUN) must be ours alone
// (core/private_dir.hpp).
std::string lsm_dir(const std::string& run_dir);
std::string qemu_dir(const std::string& run_dir);
std::string state_file(const std::string& run_dir, const std::string& name);
std::string commit_marker(const std::string& run_dir, const std::string& name);
std::string nbd_socket(const std::string& run_dir, const std::string& name);
// Where phase 3's receiver takes a RAM stream on a socket (--listen).
std::string ram_socket(const std::string& run_dir, const std::string& name);
std::string qemu_log(const std::string& run_dir, const std::string& name);
// The log of the qemu-nbd servers a Xen destination runs for NAME's disks.
std::string qemu_nbd_log(const std::string& run_dir, const std::string& name);

}  // namespace lsm::vm

// The phases for Xen domains (backend "xen"): the same steps and messages
// as for plain QEMU, with libxl owning the domain on both hosts. Called by
// the backend-neutral entry points in the other phases/ headers.
#pragma once

#include <string>

#include "core/fd_io.hpp"
#include "phases/dmstate.hpp"
#include "phases/mirror.hpp"
#include "phases/ramstream.hpp"
#include "proto/message.hpp"

namespace lsm::phases::xen {

void describe(const DescribeOptions& o, int out_fd);
void prepare(const PrepareOptions& o, const proto::Message& vm, int out_fd);

void export_disks(const ExportOptions& o, int out_fd);
void mirror_disks(const MirrorOptions& o, const proto::Message& exports);

void send_ram(const RamSendOptions& o, int out_fd);
void receive_ram(const RamReceiveOptions& o, FdReader& in, int out_fd);

void resume_destination(const std::string& run_dir, const std::string& name, int out_fd);
void quit_source(const std::string& run_dir, const std::string& name);

void rollback_source(const std::string& run_dir, const std::string& name);
void rollback_destination(const std::string& run_dir, const std::string& name);

// The temporary names, as xl migrate uses them.
std::string incoming_name(const std::string& name);
std::string migratedaway_name(const std::string& name);

}  // namespace lsm::phases::xen

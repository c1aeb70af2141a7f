// QEMU's migration through QMP, as both hosts drive it: capabilities, the
// stream handed over as a file descriptor, and its status.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "core/unique_fd.hpp"
#include "qmp/client.hpp"

namespace lsm::qemu {

// migrate-set-capabilities with every capability named turned on.
void enable_capabilities(qmp::Client& qmp, std::initializer_list<const char*> caps);

// A connected pair for the migration stream; the second end goes to QEMU.
// A socketpair rather than a pipe: shutdown() wakes a thread blocked on it.
std::pair<UniqueFd, UniqueFd> stream_pair();

// Hands fd to QEMU and runs command ("migrate" or "migrate-incoming") on it.
void migrate_over_fd(qmp::Client& qmp, const char* command, UniqueFd fd);

// query-migrate's status ("none" before any migration) and error text.
std::string migration_status(qmp::Client& qmp);
std::string migration_error(qmp::Client& qmp);
// The status a MIGRATION event carries.
std::string migration_status(const qmp::Event& e);

}  // namespace lsm::qemu

// Xen domains through libxl: lookup, state, configuration, and the
// lifecycle calls a migration needs on either host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "xen/libxl_ctx.hpp"

namespace lsm::xen {

enum class DomainType { kHvm, kPv, kPvh };

// What Xen says of a domain's state: one hypercall, cheap enough to poll
// and to ask inside the guest's pause.
struct RunState {
  bool paused = false;
  bool suspended = false;  // shut down with reason "suspend"
  bool dying = false;      // shut down for another reason, or dying
};

struct DomainInfo : RunState {
  std::uint32_t domid = 0;
  std::string name;
  std::string uuid;  // lower-case, dashed, as libxl names its files
  DomainType type = DomainType::kHvm;
};

const char* type_name(DomainType t);

// The temporary names of a migrating domain, as xl migrate uses them.
inline std::string incoming_name(const std::string& name) { return name + "--incoming"; }
inline std::string migratedaway_name(const std::string& name) { return name + "--migratedaway"; }

std::optional<std::uint32_t> lookup_domain(Libxl& x, const std::string& name);
// Throws UsageError naming the domain if this host has none by that name.
std::uint32_t find_domain(Libxl& x, const std::string& name);
// nullopt if domid no longer exists. Telling an HVM guest from a PVH one
// takes libxl's stored configuration, which asks the device model over
// QMP: where the type is not needed, run_state is the cheap question.
std::optional<DomainInfo> domain_info(Libxl& x, std::uint32_t domid);
// nullopt if domid no longer exists.
std::optional<RunState> run_state(Libxl& x, std::uint32_t domid);

// libxl's own record of how the domain was built (libxl_domain_config as
// JSON): what xl migrate sends the destination too.
std::string domain_config_json(Libxl& x, std::uint32_t domid);

void rename_domain(Libxl& x, std::uint32_t domid, const std::string& from,
                   const std::string& to);
void unpause_domain(Libxl& x, std::uint32_t domid);
void destroy_domain(Libxl& x, std::uint32_t domid);
// Cancels a suspend: the guest continues where it stopped, and an HVM
// device model is told to continue.
void resume_domain(Libxl& x, std::uint32_t domid);

}  // namespace lsm::xen

// Suspending a running guest for the final copy of a live migration, the
// way libxl does: HVM guests without PV drivers by hypercall, everyone else
// by asking the guest through xenstore (control/shutdown = "suspend").
#pragma once

#include <cstdint>

#include "xen/domain.hpp"
#include "xen/libxl_ctx.hpp"

namespace lsm::xen {

// Returns once Xen reports the domain shut down with reason suspend.
// Throws naming the domain if the guest does not cooperate in time; the
// request is withdrawn then and the guest keeps running.
void suspend_guest(Libxl& x, const DomainInfo& d);

}  // namespace lsm::xen

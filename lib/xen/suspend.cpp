#include "xen/suspend.hpp"

#include <cerrno>
#include <chrono>
#include <thread>

extern "C" {
#include <xenctrl.h>
}

#include "core/error.hpp"
#include "core/log.hpp"
#include "xen/xenstore.hpp"

namespace lsm::xen {

using namespace std::chrono_literals;

namespace {

// libxl waits as long for a guest's answer.
constexpr auto kGuestTimeout = 60s;

bool has_pv_drivers(Libxl& x, const DomainInfo& d) {
  if (d.type != DomainType::kHvm) return true;
  std::uint64_t callback_irq = 0;
  if (xc_hvm_param_get(x.xc(), d.domid, HVM_PARAM_CALLBACK_IRQ, &callback_irq) < 0)
    throw SystemError("reading HVM_PARAM_CALLBACK_IRQ of domain " + std::to_string(d.domid), errno);
  return callback_irq != 0;
}

bool is_suspended(Libxl& x, std::uint32_t domid) {
  auto state = run_state(x, domid);
  if (!state) throw Error("domain " + std::to_string(domid) + " disappeared while suspending");
  if (state->dying) throw Error("domain " + std::to_string(domid) + " shut down while suspending");
  return state->suspended;
}

template <typename Pred>
bool poll_until(Pred done, std::chrono::steady_clock::duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

void ask_guest(Libxl& x, const DomainInfo& d) {
  Xenstore xs;
  std::string node = "/local/domain/" + std::to_string(d.domid) + "/control/shutdown";
  xs.write(node, "suspend");
  // The guest acknowledges by clearing the node, then suspends itself.
  bool acked = poll_until([&] { return xs.read(node).value_or("") != "suspend"; }, kGuestTimeout);
  if (!acked) {
    xs.write(node, "");
    throw Error("domain " + d.name + " did not acknowledge the suspend request within 60 s "
                "(are its PV drivers loaded?)");
  }
  if (!poll_until([&] { return is_suspended(x, d.domid); }, kGuestTimeout))
    throw Error("domain " + d.name + " acknowledged the suspend request but did not suspend "
                "within 60 s");
}

}  // namespace

void suspend_guest(Libxl& x, const DomainInfo& d) {
  if (has_pv_drivers(x, d)) {
    ask_guest(x, d);
  } else {
    if (xc_domain_shutdown(x.xc(), d.domid, SHUTDOWN_suspend) < 0)
      throw SystemError("suspending domain " + d.name, errno);
    if (!poll_until([&] { return is_suspended(x, d.domid); }, kGuestTimeout))
      throw Error("domain " + d.name + " did not suspend within 60 s");
  }
  log::info("domain " + d.name + " suspended");
}

}  // namespace lsm::xen

#include "backend/choose.hpp"

#include "core/util.hpp"
#include "qemu/backend.hpp"
#include "xen/backend.hpp"

namespace lsm::backend {

const char* name_of(Kind k) { return k == Kind::kXen ? "xen" : "qemu"; }

std::vector<std::string> kind_names() { return {"qemu", "xen"}; }

Kind kind_named(const std::string& name) {
  if (name == "qemu") return Kind::kQemu;
  if (name == "xen") return Kind::kXen;
  throw Error("unknown backend '" + name + "' (qemu or xen)");
}

Kind host_kind() { return is_xen_dom0() ? Kind::kXen : Kind::kQemu; }

const Backend& backend_for(Kind k) {
  static const Backend qemu{qemu::source_ops(), qemu::destination_ops(), qemu::log_files};
  static const Backend xen{xen::source_ops(), xen::destination_ops(), xen::log_files};
  return k == Kind::kXen ? xen : qemu;
}

}  // namespace lsm::backend

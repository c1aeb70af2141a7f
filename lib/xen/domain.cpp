#include "xen/domain.hpp"

#include <cstdio>
#include <cstdlib>

#include "core/error.hpp"

namespace lsm::xen {

namespace {

std::string uuid_string(const libxl_uuid& u) {
  const std::uint8_t* b = libxl_uuid_bytearray_const(&u);
  char s[37];
  std::snprintf(s, sizeof s,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                b[12], b[13], b[14], b[15]);
  return s;
}

// Xen itself reports a PVH guest as HVM (it is an HVM container); only
// libxl's configuration tells them apart, and a PVH guest has no device
// model state to save.
DomainType hvm_or_pvh(Libxl& x, std::uint32_t domid) {
  libxl_domain_config cfg;
  libxl_domain_config_init(&cfg);
  int rc = libxl_retrieve_domain_configuration(x.ctx(), domid, &cfg, nullptr);
  libxl_domain_type t = cfg.c_info.type;
  libxl_domain_config_dispose(&cfg);
  check(rc, "reading the configuration of domain " + std::to_string(domid));
  return t == LIBXL_DOMAIN_TYPE_PVH ? DomainType::kPvh : DomainType::kHvm;
}

// libxl_domain_info into di; false if domid no longer exists.
bool read_dominfo(Libxl& x, std::uint32_t domid, libxl_dominfo& di) {
  int rc = libxl_domain_info(x.ctx(), &di, domid);
  if (rc == ERROR_DOMAIN_NOTFOUND) return false;
  check(rc, "reading the state of domain " + std::to_string(domid));
  return true;
}

RunState state_of(const libxl_dominfo& di) {
  RunState s;
  s.paused = di.paused;
  s.suspended = di.shutdown && di.shutdown_reason == LIBXL_SHUTDOWN_REASON_SUSPEND;
  s.dying = di.dying || (di.shutdown && !s.suspended);
  return s;
}

}  // namespace

const char* type_name(DomainType t) {
  switch (t) {
    case DomainType::kHvm: return "hvm";
    case DomainType::kPv: return "pv";
    case DomainType::kPvh: return "pvh";
  }
  return "?";
}

std::optional<std::uint32_t> lookup_domain(Libxl& x, const std::string& name) {
  std::uint32_t domid;
  if (libxl_name_to_domid(x.ctx(), name.c_str(), &domid) == 0) return domid;
  return std::nullopt;
}

std::uint32_t find_domain(Libxl& x, const std::string& name) {
  if (auto d = lookup_domain(x, name)) {
    if (*d == 0) throw UsageError("domain '" + name + "' is dom0: it cannot be migrated");
    return *d;
  }
  throw UsageError("unknown domain '" + name + "': `xl list` on this host does not show it");
}

std::optional<DomainInfo> domain_info(Libxl& x, std::uint32_t domid) {
  libxl_dominfo di;
  libxl_dominfo_init(&di);
  if (!read_dominfo(x, domid, di)) {
    libxl_dominfo_dispose(&di);
    return std::nullopt;
  }
  DomainInfo d;
  static_cast<RunState&>(d) = state_of(di);
  d.domid = domid;
  char* name = libxl_domid_to_name(x.ctx(), domid);
  if (name) {
    d.name = name;
    std::free(name);
  }
  d.uuid = uuid_string(di.uuid);
  d.type = di.domain_type == LIBXL_DOMAIN_TYPE_PV    ? DomainType::kPv
           : di.domain_type == LIBXL_DOMAIN_TYPE_PVH ? DomainType::kPvh
                                                     : hvm_or_pvh(x, domid);
  libxl_dominfo_dispose(&di);
  return d;
}

std::optional<RunState> run_state(Libxl& x, std::uint32_t domid) {
  libxl_dominfo di;
  libxl_dominfo_init(&di);
  std::optional<RunState> s;
  if (read_dominfo(x, domid, di)) s = state_of(di);
  libxl_dominfo_dispose(&di);
  return s;
}

std::string domain_config_json(Libxl& x, std::uint32_t domid) {
  libxl_domain_config cfg;
  libxl_domain_config_init(&cfg);
  int rc = libxl_retrieve_domain_configuration(x.ctx(), domid, &cfg, nullptr);
  if (rc) {
    libxl_domain_config_dispose(&cfg);
    check(rc, "reading the configuration of domain " + std::to_string(domid));
  }
  char* json = libxl_domain_config_to_json(x.ctx(), &cfg);
  libxl_domain_config_dispose(&cfg);
  if (!json) throw Error("libxl could not write domain " + std::to_string(domid) + "'s configuration as JSON");
  std::string s(json);
  std::free(json);
  return s;
}

void rename_domain(Libxl& x, std::uint32_t domid, const std::string& from,
                   const std::string& to) {
  check(libxl_domain_rename(x.ctx(), domid, from.c_str(), to.c_str()),
        "renaming domain " + from + " to " + to);
}

void unpause_domain(Libxl& x, std::uint32_t domid) {
  check(libxl_domain_unpause(x.ctx(), domid, nullptr),
        "unpausing domain " + std::to_string(domid));
}

void destroy_domain(Libxl& x, std::uint32_t domid) {
  check(libxl_domain_destroy(x.ctx(), domid, nullptr),
        "destroying domain " + std::to_string(domid));
}

void resume_domain(Libxl& x, std::uint32_t domid) {
  check(libxl_domain_resume(x.ctx(), domid, 1, nullptr),
        "resuming domain " + std::to_string(domid));
}

}  // namespace lsm::xen

#include "qemu/migration.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace lsm::qemu {

namespace {

constexpr const char* kFdName = "lsm-ram";

}  // namespace

void enable_capabilities(qmp::Client& qmp, std::initializer_list<const char*> caps) {
  json::Document args(rapidjson::kObjectType);
  auto& a = args.GetAllocator();
  json::Value list(rapidjson::kArrayType);
  for (const char* cap : caps) {
    json::Value c(rapidjson::kObjectType);
    json::add(c, "capability", cap, a);
    json::add(c, "state", true, a);
    list.PushBack(c, a);
  }
  json::add(args, "capabilities", std::move(list), a);
  qmp.execute("migrate-set-capabilities", &args);
}

std::pair<UniqueFd, UniqueFd> stream_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    throw SystemError("socketpair", errno);
  return {UniqueFd(sv[0]), UniqueFd(sv[1])};
}

void migrate_over_fd(qmp::Client& qmp, const char* command, UniqueFd fd) {
  qmp.getfd(kFdName, fd.get());
  fd.reset();
  json::Document args(rapidjson::kObjectType);
  json::add(args, "uri", std::string("fd:") + kFdName, args.GetAllocator());
  qmp.execute(command, &args);
}

std::string migration_status(qmp::Client& qmp) {
  auto info = qmp.execute("query-migrate");
  const json::Value* s = json::find(info, "status");
  return s && s->IsString() ? s->GetString() : "none";
}

std::string migration_error(qmp::Client& qmp) {
  auto info = qmp.execute("query-migrate");
  const json::Value* d = json::find(info, "error-desc");
  return d && d->IsString() ? d->GetString() : "no reason given";
}

std::string migration_status(const qmp::Event& e) {
  return json::string_at(e.data(), "status", "MIGRATION");
}

}  // namespace lsm::qemu

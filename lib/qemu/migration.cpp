#include "qemu/migration.hpp"

namespace lsm::qemu {

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

}  // namespace lsm::qemu

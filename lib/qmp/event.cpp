#include "qmp/event.hpp"

namespace lsm::qmp {

const json::Value& Event::data() const {
  static const json::Value kEmpty(rapidjson::kObjectType);
  const json::Value* d = json::find(message, "data");
  return d && d->IsObject() ? *d : kEmpty;
}

double Event::timestamp() const {
  const json::Value* ts = json::find(message, "timestamp");
  if (!ts || !ts->IsObject()) return 0;
  const json::Value* s = json::find(*ts, "seconds");
  const json::Value* us = json::find(*ts, "microseconds");
  if (!s || !us || !s->IsNumber() || !us->IsNumber()) return 0;
  return s->GetDouble() + us->GetDouble() / 1e6;
}

}  // namespace lsm::qmp

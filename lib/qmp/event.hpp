// An asynchronous QMP event, kept whole so callers can read any member.
#pragma once

#include <string>

#include "json/json.hpp"

namespace lsm::qmp {

struct Event {
  std::string name;
  json::Document message;  // {"event":..., "data":..., "timestamp":...}

  // The "data" member, or an empty object when the event has none.
  const json::Value& data() const;
  // Seconds since the epoch, from the event's timestamp.
  double timestamp() const;
};

}  // namespace lsm::qmp

// The message types and their required fields; see docs/protocol.md.
#pragma once

#include <string>
#include <vector>

#include "json/json.hpp"

namespace lsm::proto {

enum class Kind { kString, kUint, kBool, kObject, kArray };

struct Field {
  const char* name;
  Kind kind;
};

struct MessageType {
  const char* name;
  std::vector<Field> required;
};

const std::vector<MessageType>& message_types();

// Throws ProtocolError naming the type or the field that is wrong.
void validate(const json::Value& msg, const std::string& what);

}  // namespace lsm::proto

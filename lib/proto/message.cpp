#include "proto/message.hpp"

#include <cstdio>

#include "proto/schema.hpp"

namespace lsm::proto {

Message make_message(const std::string& type) {
  Message m{type, json::Document(rapidjson::kObjectType)};
  auto& a = m.doc.GetAllocator();
  json::add(m.doc, "lsm", kVersion, a);
  json::add(m.doc, "type", type, a);
  return m;
}

std::string encode(const Message& m) {
  validate(m.doc, "outgoing " + m.type + " message");
  return json::to_string(m.doc);
}

void write_message(int fd, const Message& m, const std::string& what) {
  write_all(fd, encode(m) + "\n", what);
}

Message decode(std::string_view line, const std::string& what) {
  for (unsigned char c : line) {
    // JSON text never holds raw control bytes; they mean binary garbage.
    if (c < 0x20 && c != '\t' && c != '\r')
      throw ProtocolError(what + ": binary data where a message was expected");
  }
  json::Document doc;
  try {
    doc = json::parse(line, what);
  } catch (const json::JsonError& e) {
    throw ProtocolError(e.what());
  }
  validate(doc, what);
  std::string type = doc["type"].GetString();
  return Message{std::move(type), std::move(doc)};
}

Message MessageReader::read(const std::string& expected, Deadline deadline) {
  Message m = read_any(expected, deadline);
  if (m.type != expected)
    throw ProtocolError("expected a " + expected + " message, got " + m.type);
  return m;
}

Message MessageReader::read_any(const std::string& expected, Deadline deadline) {
  std::optional<std::string> line;
  try {
    line = in_.read_line(kMaxLine, deadline);
  } catch (const TimeoutError&) {
    throw;
  } catch (const Error& e) {
    throw ProtocolError(std::string(e.what()) + " (expected a " + expected +
                        " message)");
  }
  if (!line)
    throw ProtocolError("end of stream where a " + expected +
                        " message was expected (did the other side fail? see "
                        "its error above)");
  return decode(*line, "message");
}

std::string timestamp(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", seconds);
  return buf;
}

}  // namespace lsm::proto

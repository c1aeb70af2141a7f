// Messages between lsm tools: one JSON object per line,
// {"lsm": <version>, "type": "<type>", ...fields}. docs/protocol.md is the
// schema; schema.cpp is its machine-checked copy.
#pragma once

#include <string>
#include <vector>

#include "core/fd_io.hpp"
#include "json/json.hpp"

namespace lsm::proto {

inline constexpr int kVersion = 1;
inline constexpr std::size_t kMaxLine = 1024 * 1024;

// The peer sent something that is not a valid lsm message.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

struct Message {
  std::string type;
  json::Document doc;  // the whole object, "lsm" and "type" included
};

// A new message of the given type with the version and type members set.
Message make_message(const std::string& type);

// A time in seconds since the epoch as messages carry it ("%.6f").
std::string timestamp(double seconds);

// The message as one line, after checking it against the schema.
std::string encode(const Message& m);
void write_message(int fd, const Message& m, const std::string& what);

// Parses and validates one line.
Message decode(std::string_view line, const std::string& what);

// Reads messages from a stream; `what` names it in errors ("stdin from
// lsm-dmstate send").
class MessageReader {
 public:
  explicit MessageReader(FdReader& in) : in_(in) {}
  // The next message, which must be of type `expected`.
  Message read(const std::string& expected, Deadline deadline = Deadline::never());
  // The next message, of any type; `expected` names what may come, in errors.
  Message read_any(const std::string& expected, Deadline deadline = Deadline::never());

 private:
  FdReader& in_;
};

}  // namespace lsm::proto

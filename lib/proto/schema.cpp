#include "proto/schema.hpp"

#include "proto/message.hpp"

namespace lsm::proto {

const std::vector<MessageType>& message_types() {
  using K = Kind;
  static const std::vector<MessageType> kTypes = {
      // Phase 1, source -> destination: what the destination must host.
      {"vm",
       {{"name", K::kString},
        {"backend", K::kString},
        {"config", K::kObject},
        {"disks", K::kArray}}},
      // Phase 1, destination -> orchestrator: what was prepared there.
      {"prepared",
       {{"name", K::kString}, {"qmp", K::kString}, {"created", K::kArray}}},
      // Phase 2, destination -> source: where each disk is exported.
      {"exports", {{"socket", K::kString}, {"exports", K::kArray}}},
      // Phase 3 header, source -> destination: frames of RAM follow.
      {"ram-stream", {{"name", K::kString}, {"backend", K::kString}}},
      // Phase 3, destination -> source: the receiver listens on its socket.
      {"ram-listening", {}},
      // Phase 3, source -> destination, while the stream goes on a socket.
      {"ram-sent", {{"bytes", K::kUint}}},
      // Phase 3 trailer, source -> destination: the source has switched over.
      {"ram-done",
       {{"bytes", K::kUint}, {"disk_bytes", K::kUint}, {"paused_at", K::kString}}},
      // Phase 4, source -> destination, on the stream after "ram-done": the
      // source's decision that the destination's copy is to run.
      {"go", {{"name", K::kString}}},
      // Progress, on stderr with --json.
      {"progress",
       {{"phase", K::kString}, {"done", K::kUint}, {"total", K::kUint}}},
      // A tool's final figures for the orchestrator's summary.
      {"result", {{"phase", K::kString}, {"ok", K::kBool}}},
      // The orchestrator's closing line on stdout with --json.
      {"summary", {{"domain", K::kString}, {"host", K::kString}, {"ok", K::kBool}}},
  };
  return kTypes;
}

namespace {

bool has_kind(const json::Value& v, Kind k) {
  switch (k) {
    case Kind::kString: return v.IsString();
    case Kind::kUint: return v.IsUint64();
    case Kind::kBool: return v.IsBool();
    case Kind::kObject: return v.IsObject();
    case Kind::kArray: return v.IsArray();
  }
  return false;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kString: return "a string";
    case Kind::kUint: return "an unsigned integer";
    case Kind::kBool: return "a boolean";
    case Kind::kObject: return "an object";
    case Kind::kArray: return "an array";
  }
  return "?";
}

}  // namespace

void validate(const json::Value& msg, const std::string& what) {
  if (!msg.IsObject()) throw ProtocolError(what + ": message is not a JSON object");
  const json::Value* v = json::find(msg, "lsm");
  if (!v) throw ProtocolError(what + ": not an lsm message (no \"lsm\" version)");
  if (!v->IsInt() || v->GetInt() != kVersion)
    throw ProtocolError(what + ": unsupported protocol version " +
                        json::to_string(*v) + " (this lsm speaks " +
                        std::to_string(kVersion) +
                        "; install the same lsm version on both hosts)");
  const json::Value* t = json::find(msg, "type");
  if (!t || !t->IsString())
    throw ProtocolError(what + ": message has no \"type\" string");
  std::string type = t->GetString();
  for (const auto& mt : message_types()) {
    if (type != mt.name) continue;
    for (const auto& f : mt.required) {
      const json::Value* fv = json::find(msg, f.name);
      if (!fv)
        throw ProtocolError(what + ": " + type + " message lacks field \"" +
                            f.name + "\"");
      if (!has_kind(*fv, f.kind))
        throw ProtocolError(what + ": " + type + " message field \"" + f.name +
                            "\" is not " + kind_name(f.kind));
    }
    return;
  }
  throw ProtocolError(what + ": unknown message type \"" + type + "\"");
}

}  // namespace lsm::proto

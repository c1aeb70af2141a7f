#include "proto/messages.hpp"

#include <utility>

#include "proto/limits.hpp"

namespace lsm::proto {

namespace {

// One message being built: its fields in the order docs/protocol.md shows,
// then written as one checked line.
class Out {
 public:
  explicit Out(const char* type) : m_(make_message(type)) {}
  template <typename T>
  Out& add(const char* key, T&& value) {
    json::add(m_.doc, key, std::forward<T>(value), alloc());
    return *this;
  }
  json::Allocator& alloc() { return m_.doc.GetAllocator(); }
  void write(int fd, const std::string& what = "stdout") { write_message(fd, m_, what); }

 private:
  Message m_;
};

json::Value strings(const std::vector<std::string>& v, json::Allocator& a) {
  json::Value out(rapidjson::kArrayType);
  for (const auto& s : v) out.PushBack(json::str(s, a), a);
  return out;
}

json::Value exports_json(const std::vector<Export>& exports, json::Allocator& a) {
  json::Value list(rapidjson::kArrayType);
  for (const auto& e : exports) {
    json::Value v(rapidjson::kObjectType);
    json::add(v, "key", e.key, a);
    json::add(v, "export", e.name, a);
    json::add(v, "socket", e.socket, a);
    list.PushBack(v, a);
  }
  return list;
}

}  // namespace

void write_vm(int fd, const Vm& m) {
  Out out("vm");
  out.add("name", m.name).add("backend", m.backend);
  out.add("config", json::Value(m.config, out.alloc()));
  out.add("disks", to_json(m.disks, out.alloc())).write(fd);
}

Vm read_vm(MessageReader& in) {
  Message m = in.read("vm");
  Vm v;
  v.name = json::string_at(m.doc, "name", "vm");
  v.backend = json::string_at(m.doc, "backend", "vm");
  v.config.CopyFrom(json::object_at(m.doc, "config", "vm"), v.config.GetAllocator());
  v.disks = disks_from_json(json::array_at(m.doc, "disks", "vm"), "vm.disks");
  return v;
}

void write_prepared(int fd, const Prepared& m) {
  Out out("prepared");
  out.add("name", m.name).add("qmp", m.qmp).add("created", strings(m.created, out.alloc()));
  out.write(fd);
}

void write_exports(int fd, const Exports& m) {
  Out out("exports");
  out.add("socket", m.socket).add("exports", exports_json(m.exports, out.alloc()));
  if (!m.ram_socket.empty()) out.add("ram_socket", m.ram_socket);
  out.write(fd);
}

Exports read_exports(MessageReader& in) {
  Message m = in.read("exports");
  Exports x{json::string_at(m.doc, "socket", "exports"), {}, {}};
  const json::Value& list = json::array_at(m.doc, "exports", "exports");
  if (list.Size() > kMaxDisks)
    throw ProtocolError("exports: " + std::to_string(list.Size()) + " exports, more than the " +
                        std::to_string(kMaxDisks) + " disks lsm migrates");
  for (const auto& v : list.GetArray()) {
    const json::Value* sock = json::find(v, "socket");
    x.exports.push_back({json::string_at(v, "key", "exports[]"),
                         json::string_at(v, "export", "exports[]"),
                         sock && sock->IsString() ? sock->GetString() : x.socket});
  }
  const json::Value* ram = json::find(m.doc, "ram_socket");
  if (ram && ram->IsString()) x.ram_socket = ram->GetString();
  return x;
}

void write_ram_stream(int fd, const RamStream& m) {
  Out out("ram-stream");
  out.add("name", m.name).add("backend", m.backend);
  if (m.on_socket) out.add("channel", "socket");
  out.write(fd, kStreamOut);
}

RamStream read_ram_stream(MessageReader& in) {
  Message m = in.read("ram-stream");
  RamStream r{json::string_at(m.doc, "name", "ram-stream"),
              json::string_at(m.doc, "backend", "ram-stream")};
  if (const json::Value* c = json::find(m.doc, "channel")) {
    std::string channel = c->IsString() ? c->GetString() : json::to_string(*c);
    if (channel != "socket")
      throw ProtocolError("ram-stream: unknown channel " + channel + " (this lsm knows \"socket\")");
    r.on_socket = true;
  }
  return r;
}

void write_ram_listening(int fd) { Out("ram-listening").write(fd); }

void read_ram_listening(MessageReader& in, Deadline deadline) { in.read("ram-listening", deadline); }

void write_ram_sent(int fd, std::uint64_t bytes) {
  Out("ram-sent").add("bytes", bytes).write(fd, kStreamOut);
}

void write_ram_done(int fd, const RamDone& m) {
  Out("ram-done")
      .add("bytes", m.bytes)
      .add("disk_bytes", m.disk_bytes)
      .add("paused_at", m.paused_at)
      .write(fd, kStreamOut);
}

namespace {

RamDone ram_done_of(const Message& m) {
  return {json::u64_at(m.doc, "bytes", "ram-done"), json::u64_at(m.doc, "disk_bytes", "ram-done"),
          json::string_at(m.doc, "paused_at", "ram-done")};
}

}  // namespace

RamDone read_ram_done(MessageReader& in) { return ram_done_of(in.read("ram-done")); }

std::optional<RamDone> read_ram_sent_or_done(MessageReader& in, std::uint64_t& sent) {
  Message m = in.read_any("ram-sent or ram-done");
  if (m.type == "ram-done") return ram_done_of(m);
  if (m.type != "ram-sent")
    throw ProtocolError("expected a ram-sent or ram-done message, got " + m.type);
  sent = json::u64_at(m.doc, "bytes", "ram-sent");
  return std::nullopt;
}

void write_ram_result(int fd, const RamDone& received) {
  Out("result")
      .add("phase", "ram")
      .add("ok", true)
      .add("ram_bytes", received.bytes)
      .add("disk_bytes", received.disk_bytes)
      .add("paused_at", received.paused_at)
      .write(fd);
}

void write_resume_result(int fd, double resumed_at) {
  Out("result").add("phase", "resume").add("ok", true).add("resumed_at", timestamp(resumed_at)).write(fd);
}

namespace {

Message read_result(MessageReader& in, const char* phase, Deadline deadline) {
  Message m = in.read("result", deadline);
  std::string got = json::string_at(m.doc, "phase", "result");
  if (got != phase)
    throw ProtocolError(std::string("expected the ") + phase + " result, got the " + got + " one");
  return m;
}

}  // namespace

Message read_ram_result(MessageReader& in, Deadline deadline) {
  return read_result(in, "ram", deadline);
}

Message read_resume_result(MessageReader& in, Deadline deadline) {
  return read_result(in, "resume", deadline);
}

void write_go(int fd, const std::string& name) {
  Out("go").add("name", name).write(fd, kStreamOut);
}

std::optional<std::string> read_go(FdReader& in, Deadline deadline) {
  auto line = in.read_line(kMaxLine, deadline);
  if (!line) return std::nullopt;
  Message m = decode(*line, "message");
  if (m.type != "go") throw ProtocolError("expected a go message, got " + m.type);
  return json::string_at(m.doc, "name", "go");
}

}  // namespace lsm::proto

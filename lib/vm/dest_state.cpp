#include "vm/dest_state.hpp"

#include "core/util.hpp"
#include "proto/limits.hpp"
#include "proto/message.hpp"
#include "vm/names.hpp"
#include "vm/state_file.hpp"

namespace lsm::vm {

namespace {

// A pid, never one that kill() would take for a process group or "all".
pid_t pid_at(const json::Value* v, const std::string& path, const char* key) {
  if (!v || !v->IsUint64() || v->GetUint64() > proto::kMaxPid)
    throw Error(path + ": " + key + " holds a non-pid; not signalling anything (remove the "
                "file once no QEMU or qemu-nbd of this VM runs)");
  return static_cast<pid_t>(v->GetUint64());
}

}  // namespace

void save(const DestState& s) {
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  json::add(d, "name", s.name, a);
  json::add(d, "backend", s.backend, a);
  json::add(d, "qmp", s.qmp, a);
  json::add(d, "qemu_pid", static_cast<std::uint64_t>(s.qemu_pid), a);
  json::add(d, "xen_config", s.xen_config, a);
  json::Value nbd(rapidjson::kArrayType);
  for (pid_t p : s.nbd_pids) nbd.PushBack(static_cast<std::uint64_t>(p), a);
  json::add(d, "nbd_pids", std::move(nbd), a);
  json::add(d, "was_running", s.was_running, a);
  json::Value created(rapidjson::kArrayType);
  for (const auto& c : s.created) created.PushBack(json::str(c, a), a);
  json::add(d, "created", std::move(created), a);
  json::add(d, "disks", proto::to_json(s.disks, a), a);
  write_file_atomically(s.path, json::to_string(d) + "\n");
}

DestState load_dest_state(const std::string& path) {
  auto file = read_state_file(path);
  if (!file) throw Error("no incoming migration here (" + path + " does not exist)");
  const json::Document& d = *file;
  DestState s;
  s.path = path;
  s.name = json::string_at(d, "name", "");
  s.backend = json::string_at(d, "backend", "");
  s.qmp = json::string_at(d, "qmp", "");
  s.qemu_pid = pid_at(json::find(d, "qemu_pid"), path, "qemu_pid");
  s.xen_config = json::string_at(d, "xen_config", "");
  for (const auto& p : json::array_at(d, "nbd_pids", "").GetArray()) {
    s.nbd_pids.push_back(pid_at(&p, path, "nbd_pids"));
  }
  s.was_running = json::bool_at(d, "was_running", "");
  const auto& created = json::array_at(d, "created", "");
  for (const auto& c : created.GetArray()) s.created.emplace_back(c.GetString());
  s.disks = proto::disks_from_json(json::array_at(d, "disks", ""), "disks");
  return s;
}

void mark_committed(const std::string& run_dir, const std::string& name) {
  std::string path = commit_marker(run_dir, name);
  if (path_exists(path)) return;
  create_file_durably(path, "{\"committed_at\":\"" + proto::timestamp(epoch_now()) + "\"}\n");
}

bool is_committed(const std::string& run_dir, const std::string& name) {
  return path_exists(commit_marker(run_dir, name));
}

void release_commit(const std::string& run_dir, const std::string& name) {
  remove_file(commit_marker(run_dir, name));
}

}  // namespace lsm::vm

#include "vm/source_state.hpp"

#include <cerrno>

#include "core/util.hpp"
#include "json/json.hpp"
#include "proto/limits.hpp"
#include "vm/names.hpp"
#include "vm/state_file.hpp"

namespace lsm::vm {

namespace {

std::string path_of(const std::string& run, const std::string& name) {
  return lsm_dir(run) + "/" + name + ".source.json";
}

std::vector<std::string> strings_at(const json::Value& d, const char* key,
                                    const std::string& path) {
  std::vector<std::string> out;
  for (const auto& k : json::array_at(d, key, path).GetArray()) {
    if (!k.IsString()) throw Error(path + ": " + key + " holds a non-string");
    out.emplace_back(k.GetString());
  }
  return out;
}

std::string encode(const SourceState& s) {
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  json::add(d, "was_running", s.was_running, a);
  json::Value disks(rapidjson::kArrayType);
  for (const auto& k : s.disks) disks.PushBack(json::str(k, a), a);
  json::add(d, "disks", std::move(disks), a);
  json::add(d, "mirrored", s.mirrored, a);
  json::Value mirrors(rapidjson::kArrayType);
  for (const auto& k : s.mirrors) mirrors.PushBack(json::str(k, a), a);
  json::add(d, "mirrors", std::move(mirrors), a);
  json::add(d, "go", s.go, a);
  return json::to_string(d) + "\n";
}

}  // namespace

std::string recovery_hint(const std::string& name) {
  return "lsm-migrate.sh --recover " + name + " HOST";
}

namespace {

[[noreturn]] void in_progress(const std::string& path, const std::string& name) {
  throw Error("a migration of '" + name + "' is in progress or was interrupted (" + path +
              "); if no lsm-migrate.sh runs for it, settle it with: " + recovery_hint(name));
}

}  // namespace

void refuse_if_in_progress(const std::string& run, const std::string& name) {
  std::string path = path_of(run, name);
  if (path_exists(path)) in_progress(path, name);
}

void begin_source_state(const std::string& run, const std::string& name, const SourceState& s) {
  std::string path = path_of(run, name);
  try {
    create_file_durably(path, encode(s));
  } catch (const SystemError& e) {
    if (e.code() != EEXIST) throw;
    in_progress(path, name);
  }
}

void save_source_state(const std::string& run, const std::string& name, const SourceState& s) {
  write_file_atomically(path_of(run, name), encode(s));
}

std::optional<SourceState> load_source_state(const std::string& run, const std::string& name) {
  std::string path = path_of(run, name);
  auto file = read_state_file(path);
  if (!file) return std::nullopt;
  const json::Document& d = *file;
  SourceState s;
  s.was_running = json::bool_at(d, "was_running", path);
  s.disks = strings_at(d, "disks", path);
  s.mirrored = json::bool_at(d, "mirrored", path);
  s.mirrors = strings_at(d, "mirrors", path);
  if (s.mirrors.size() > proto::kMaxDisks)
    throw Error(path + ": " + std::to_string(s.mirrors.size()) + " mirrors is not a disk count");
  s.go = json::bool_at(d, "go", path);
  return s;
}

void clear_source_state(const std::string& run, const std::string& name) {
  remove_file(path_of(run, name));
}

}  // namespace lsm::vm

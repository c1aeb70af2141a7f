#include "proto/disk.hpp"

#include "proto/limits.hpp"

namespace lsm::proto {

namespace {

std::uint64_t size_at(const json::Value& v, const char* key, const std::string& path) {
  std::uint64_t n = json::u64_at(v, key, path);
  if (n > kMaxDiskBytes)
    throw Error(path + "." + key + ": " + std::to_string(n) +
                " bytes is more than any disk lsm copies (64 PiB); refusing the description");
  return n;
}

}  // namespace

json::Value to_json(const Disk& d, json::Allocator& a) {
  json::Value v(rapidjson::kObjectType);
  json::add(v, "key", d.key, a);
  json::add(v, "node", d.node, a);
  json::add(v, "file", d.file, a);
  json::add(v, "format", d.format, a);
  json::add(v, "virtual_size", d.virtual_size, a);
  json::add(v, "allocated", d.allocated, a);
  json::add(v, "shared", d.shared, a);
  if (!d.target.empty()) json::add(v, "target", d.target, a);
  return v;
}

json::Value to_json(const std::vector<Disk>& disks, json::Allocator& a) {
  json::Value v(rapidjson::kArrayType);
  for (const auto& d : disks) v.PushBack(to_json(d, a), a);
  return v;
}

Disk disk_from_json(const json::Value& v, const std::string& path) {
  Disk d;
  d.key = json::string_at(v, "key", path);
  d.node = json::string_at(v, "node", path);
  d.file = json::string_at(v, "file", path);
  d.format = json::string_at(v, "format", path);
  d.virtual_size = size_at(v, "virtual_size", path);
  d.allocated = size_at(v, "allocated", path);
  d.shared = json::bool_at(v, "shared", path);
  if (json::find(v, "target")) d.target = json::string_at(v, "target", path);
  return d;
}

std::vector<Disk> disks_from_json(const json::Value& array, const std::string& path) {
  if (array.Size() > kMaxDisks)
    throw Error(path + ": " + std::to_string(array.Size()) + " disks, more than the " +
                std::to_string(kMaxDisks) + " lsm migrates; refusing the description");
  std::vector<Disk> out;
  for (rapidjson::SizeType i = 0; i < array.Size(); ++i)
    out.push_back(disk_from_json(array[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace lsm::proto

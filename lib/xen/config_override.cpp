#include "xen/config_override.hpp"

#include <map>

#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "json/json.hpp"

namespace lsm::xen {

namespace {

using json::string_or_empty;

bool flag(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && ((v->IsBool() && v->GetBool()) || (v->IsInt() && v->GetInt() != 0));
}

}  // namespace

std::string xl_config_json(const std::string& file) {
  return with_context("-C " + file, [&] {
    return run_capture({"xl", "create", "--dryrun", "--defconfig=" + file});
  });
}

void apply_config_override(const std::string& config_json, const std::string& origin,
                           const std::string& name, const std::string& type,
                           std::vector<proto::Disk>& disks) {
  json::Document doc = json::parse(config_json, origin);
  if (!doc.IsObject()) throw Error(origin + ": not a domain configuration");
  const json::Value& c_info = json::object_at(doc, "c_info", origin);
  std::string its_name = string_or_empty(c_info, "name");
  if (its_name != name)
    throw Error(origin + ": it names the domain '" + its_name + "', not '" + name +
                "'; lsm keeps the domain's name (set name=\"" + name + "\")");
  std::string its_type = string_or_empty(c_info, "type");
  if (its_type != type)
    throw Error(origin + ": a " + (its_type.empty() ? "untyped" : its_type) + " guest, but '" +
                name + "' runs as a " + type + " guest; a live guest cannot change its type");

  std::map<std::string, const json::Value*> by_vdev;
  if (const json::Value* list = json::find(doc, "disks"); list && list->IsArray())
    for (const auto& d : list->GetArray())
      if (d.IsObject() && !string_or_empty(d, "pdev_path").empty() && !flag(d, "is_cdrom"))
        by_vdev[string_or_empty(d, "vdev")] = &d;

  for (auto& disk : disks) {
    auto it = by_vdev.find(disk.key);
    if (it == by_vdev.end())
      throw Error(origin + ": no disk " + disk.key + ", which '" + name +
                  "' has (" + disk.file + "); a live guest keeps its disks");
    std::string format = string_or_empty(*it->second, "format");
    if (!format.empty() && format != "unknown" && format != disk.format)
      throw Error(origin + ": disk " + disk.key + " is " + format + " there, " + disk.format +
                  " on this host; the image is copied as it is");
    disk.target = string_or_empty(*it->second, "pdev_path");
    by_vdev.erase(it);
  }
  if (!by_vdev.empty()) {
    const auto& [vdev, extra] = *by_vdev.begin();
    throw Error(origin + ": disk " + vdev + " (" + string_or_empty(*extra, "pdev_path") +
                ") is not one of '" + name + "''s disks; a live guest gets no new disk in a "
                "migration");
  }
}

}  // namespace lsm::xen

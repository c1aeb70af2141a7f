#include "xen/config_check.hpp"

#include "core/error.hpp"
#include "json/json.hpp"
#include "policy/places.hpp"

namespace lsm::xen {

namespace {

using policy::Policy;

using json::string_or_empty;

const json::Value* list(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  return v && v->IsArray() ? v : nullptr;
}

// libxl runs a relative script name from its script directory.
void check_script(const std::string& what, const std::string& script, const Policy& p) {
  if (script.empty()) return;
  bool bare = script.find('/') == std::string::npos && script != "." && script != "..";
  if (!bare && !policy::inside(script, p.xen_script_dir))
    throw Error(what + " script " + script + " is outside the Xen script directory " +
                p.xen_script_dir + " " + policy::allow_hint(p, "xen_script_dir"));
}

void check_build_info(const json::Value& b, const Policy& p, const std::string& run_dir) {
  if (!string_or_empty(b, "bootloader").empty() && !p.xen_allow_bootloader)
    throw Error("the domain's bootloader " + string_or_empty(b, "bootloader") +
                " would run on this host " + policy::allow_hint(p, "xen_allow_bootloader"));
  if (!p.xen_allow_device_model_override) {
    for (const char* key : {"device_model", "stubdomain_kernel", "stubdomain_ramdisk"})
      if (!string_or_empty(b, key).empty())
        throw Error(std::string("the domain's ") + key + " " + string_or_empty(b, key) +
                    " would run on this host " +
                    policy::allow_hint(p, "xen_allow_device_model_override"));
    for (const char* key : {"extra", "extra_pv", "extra_hvm"})
      if (const json::Value* args = list(b, key); args && !args->Empty())
        throw Error(std::string("the domain's device model arguments (") + key +
                    ") are not replayed here " +
                    policy::allow_hint(p, "xen_allow_device_model_override"));
  }
  const json::Value* hvm = json::find(b, "type.hvm");
  if (!hvm || !hvm->IsObject()) return;
  std::vector<std::string> serials{string_or_empty(*hvm, "serial")};
  if (const json::Value* l = list(*hvm, "serial_list"))
    for (const auto& s : l->GetArray())
      if (s.IsString()) serials.push_back(s.GetString());
  for (const auto& s : serials) {
    for (const char* prefix : {"file:", "pipe:", "unix:"}) {
      if (s.rfind(prefix, 0) != 0) continue;
      std::string path = s.substr(std::string(prefix).size());
      // Only unix: reads options after the path; file: and pipe: take it all.
      if (std::string(prefix) == "unix:") path = path.substr(0, path.find(','));
      if (!policy::inside(path, run_dir) && !policy::inside_any(path, p.file_dirs))
        throw Error("the domain's serial " + s + " is a host file outside the run directory " +
                    run_dir + " " + policy::allow_hint(p, "file_dirs"));
    }
  }
}

void check_disks(const json::Value& config, const std::set<std::string>& copied,
                 const Policy& p) {
  const json::Value* disks = list(config, "disks");
  if (!disks) return;
  for (const auto& d : disks->GetArray()) {
    if (!d.IsObject()) throw Error("libxl configuration: a disk is not an object");
    std::string vdev = string_or_empty(d, "vdev");
    check_script("disk " + vdev + ": block", string_or_empty(d, "script"), p);
    std::string path = string_or_empty(d, "pdev_path");
    if (path.empty() || copied.contains(vdev)) continue;
    with_context("disk " + vdev, [&] { policy::check_image(path, p); });
  }
}

}  // namespace

void check_config(const std::string& config, const std::set<std::string>& copied,
                  const Policy& p, const std::string& run_dir) {
  json::Document doc = json::parse(config, "vm.config.libxl");
  if (!doc.IsObject()) throw Error("vm.config.libxl is not a JSON object");
  if (const json::Value* b = json::find(doc, "b_info"); b && b->IsObject())
    check_build_info(*b, p, run_dir);
  check_disks(doc, copied, p);
  if (const json::Value* nics = list(doc, "nics"))
    for (const auto& n : nics->GetArray())
      if (n.IsObject()) check_script("vif", string_or_empty(n, "script"), p);
  if (const json::Value* p9s = list(doc, "p9s"))
    for (const auto& s : p9s->GetArray())
      if (s.IsObject() && !policy::inside_any(string_or_empty(s, "path"), p.file_dirs))
        throw Error("the domain shares the host directory " + string_or_empty(s, "path") +
                    " (9pfs) " + policy::allow_hint(p, "file_dirs"));
}

}  // namespace lsm::xen

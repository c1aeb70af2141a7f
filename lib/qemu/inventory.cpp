#include "qemu/inventory.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "core/log.hpp"

namespace lsm::qemu {

namespace {

std::string canonical(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

std::string key_of(const json::Value& dev, const std::string& path) {
  std::string device = json::string_at(dev, "device", path);
  if (!device.empty()) return device;
  const json::Value* qdev = json::find(dev, "qdev");
  if (qdev && qdev->IsString() && qdev->GetStringLength() > 0) return qdev->GetString();
  return json::string_at(json::object_at(dev, "inserted", path), "node-name",
                         path + ".inserted");
}

}  // namespace

std::vector<proto::Disk> list_disks(qmp::Client& qmp,
                                 const std::vector<std::string>& shared_paths) {
  std::vector<std::string> shared;
  for (const auto& p : shared_paths) shared.push_back(canonical(p));
  auto devices = qmp.execute("query-block");
  std::vector<proto::Disk> disks;
  for (rapidjson::SizeType i = 0; i < devices.Size(); ++i) {
    const json::Value& dev = devices[i];
    std::string path = "query-block[" + std::to_string(i) + "]";
    const json::Value* ins = json::find(dev, "inserted");
    if (!ins) {
      log::info("drive " + json::string_at(dev, "device", path) + ": no medium, nothing to copy");
      continue;
    }
    bool removable = json::bool_at(dev, "removable", path);
    proto::Disk d;
    d.key = key_of(dev, path);
    d.node = json::string_at(*ins, "node-name", path + ".inserted");
    const json::Value& image = json::object_at(*ins, "image", path + ".inserted");
    std::string ipath = path + ".inserted.image";
    d.file = json::string_at(image, "filename", ipath);
    // Nothing writes to a read-only drive, so the destination may open the
    // same path; it must be there (the command line names it).
    if (json::bool_at(*ins, "ro", path + ".inserted")) {
      log::info("disk " + d.key + " (" + d.file + "): read-only" +
                (removable ? " removable medium" : "") + ", not copied");
      continue;
    }
    d.format = json::string_at(image, "format", ipath);
    d.virtual_size = json::u64_at(image, "virtual-size", ipath);
    const json::Value* actual = json::find(image, "actual-size");
    d.allocated = actual && actual->IsUint64() ? actual->GetUint64() : d.virtual_size;
    bool protocol = d.file.find("://") != std::string::npos || d.file.rfind("json:", 0) == 0;
    if (protocol || d.file.empty())
      throw Error("disk " + d.key + ": '" + d.file +
                  "' is not a local file; lsm copies local raw and qcow2 "
                  "images (use --shared-disk if both hosts already see it)");
    // QEMU's -daemonize moves it to "/", so nothing tells what a relative
    // name was relative to.
    if (d.file[0] != '/')
      throw Error("disk " + d.key + ": image name '" + d.file +
                  "' is relative; start QEMU with absolute image paths");
    d.shared = std::find(shared.begin(), shared.end(), canonical(d.file)) != shared.end();
    // Its medium may have been changed since QEMU started, so the command
    // line the destination replays may not name it: refused, never left
    // behind with the guest's writes.
    if (removable && !d.shared)
      throw Error("disk " + d.key + " (" + d.file + ") is a writable removable medium, which lsm "
                  "does not copy; eject it or make it read-only, or pass --shared-disk if both "
                  "hosts see it");
    if (d.shared) {
      disks.push_back(d);
      continue;
    }
    if (d.format != "raw" && d.format != "qcow2")
      throw Error("disk " + d.key + " (" + d.file + "): format " + d.format +
                  " is not supported; convert it to raw or qcow2");
    if (json::find(image, "backing-filename"))
      throw Error("disk " + d.key + " (" + d.file + ") has a backing file (" +
                  json::string_at(image, "backing-filename", ipath) +
                  "); flatten it with qemu-img convert, or mark it --shared-disk");
    disks.push_back(d);
  }
  for (const auto& p : shared) {
    bool found = false;
    for (const auto& d : disks) found = found || (d.shared && canonical(d.file) == p);
    if (!found)
      throw UsageError("--shared-disk " + p + ": no writable disk of this VM uses that file");
  }
  return disks;
}

std::string node_for_key(qmp::Client& qmp, const std::string& key) {
  auto devices = qmp.execute("query-block");
  for (rapidjson::SizeType i = 0; i < devices.Size(); ++i) {
    std::string path = "query-block[" + std::to_string(i) + "]";
    const json::Value* ins = json::find(devices[i], "inserted");
    if (ins && key_of(devices[i], path) == key)
      return json::string_at(*ins, "node-name", path + ".inserted");
  }
  throw Error("disk " + key + ": not present in " + qmp.peer_name());
}

}  // namespace lsm::qemu

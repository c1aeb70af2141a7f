// One writable disk of a VM as both hosts see it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "json/json.hpp"

namespace lsm::proto {

struct Disk {
  // Names the disk identically on both hosts, since both QEMUs run the same
  // command line: the drive id, else the guest device's qdev path.
  std::string key;
  std::string node;  // the top block node on this host
  std::string file;  // the image file on this host
  std::string format;  // raw or qcow2
  std::uint64_t virtual_size = 0;
  std::uint64_t allocated = 0;  // bytes the image occupies on disk
  bool shared = false;  // both hosts see the same file: not copied
  // Where the source's operator wants the disk on the destination (Xen's
  // -C configuration names it), before --map; empty: where file is.
  std::string target;
};

json::Value to_json(const Disk& d, json::Allocator& a);
json::Value to_json(const std::vector<Disk>& disks, json::Allocator& a);
Disk disk_from_json(const json::Value& v, const std::string& path);
std::vector<Disk> disks_from_json(const json::Value& array, const std::string& path);

}  // namespace lsm::proto

// LVM logical volumes as disks. A Xen domain's disk may be a volume,
// target=/dev/VG/LV with backendtype=qdisk: the destination creates one of
// the same size in the volume group of the same name (or the one --map
// names), with LVM's own tools, and a rollback removes only the volumes
// it created. Volumes are named by that path alone, as xl names them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lsm::storage {

struct Volume {
  std::string vg;
  std::string lv;
  std::string path() const { return "/dev/" + vg + "/" + lv; }
  std::string name() const { return vg + "/" + lv; }  // as LVM's tools take it
};

// The volume a path of the form /dev/VG/LV names, with names LVM allows;
// nullopt for any other path (a file, /dev/sda, /dev/mapper/...).
std::optional<Volume> volume_at(const std::string& path);

// The volume's size in bytes; nullopt if the group has no such volume.
// Throws naming the group if LVM cannot list it.
std::optional<std::uint64_t> volume_size(const Volume& v);

// Bytes free in the volume group, and its extent size.
struct GroupSpace {
  std::uint64_t free = 0;
  std::uint64_t extent = 0;
};
GroupSpace group_space(const std::string& vg);

// Creates the volume with exactly bytes (a multiple of the group's
// extent size, else it is refused, not rounded up: the guest would see
// another disk size).
void create_volume(const Volume& v, std::uint64_t bytes);

void remove_volume(const Volume& v);

}  // namespace lsm::storage

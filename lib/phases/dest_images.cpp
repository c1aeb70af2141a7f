#include "phases/dest_images.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <map>

#include "core/checked.hpp"
#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "core/util.hpp"
#include "json/json.hpp"
#include "policy/places.hpp"
#include "storage/lvm.hpp"

namespace lsm::phases {

namespace {

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Destination images need the same virtual size and format; --reuse of an
// existing file is only safe when it matches.
void check_reusable(const proto::Disk& d, const std::string& target) {
  auto info = json::parse(
      run_capture({"qemu-img", "info", "-U", "--output=json", target}), target);
  std::string fmt = json::string_at(info, "format", target);
  std::uint64_t size = json::u64_at(info, "virtual-size", target);
  if (fmt != d.format || size != d.virtual_size)
    throw Error("--reuse " + target + ": it is " + fmt + " of " +
                std::to_string(size) + " bytes, the source disk is " + d.format +
                " of " + std::to_string(d.virtual_size) + " bytes");
}

// An image file (inside the image roots, checked already): created unless
// it exists (then only with --reuse, and only if it matches).
void plan_file(const proto::Disk& d, const std::string& target, bool reuse, TargetPlan& plan) {
  if (d.shared) {
    if (!path_exists(target))
      throw Error("shared disk " + d.key + ": " + target + " is not visible on the destination");
  } else if (path_exists(target)) {
    if (!reuse)
      throw Error("disk " + d.key + ": target file " + target +
                  " already exists on the destination; remove it or pass --reuse");
    check_reusable(d, target);
  } else {
    plan.to_create.emplace_back(d, target);
  }
}

// A logical volume: its group allowed, a raw image of the disk's exact
// size, created unless it exists (then only with --reuse, and only if it
// is that size). Returns whether it must be created.
bool plan_volume(const proto::Disk& d, const storage::Volume& v, bool reuse,
                 const policy::Policy& policy) {
  with_context("disk " + d.key, [&] { policy::check_volume_group(v.vg, policy); });
  auto size = with_context("disk " + d.key, [&] { return storage::volume_size(v); });
  if (d.shared) {
    if (!size)
      throw Error("shared disk " + d.key + ": logical volume " + v.name() +
                  " does not exist on the destination");
    return false;
  }
  if (d.format != "raw")
    throw Error("disk " + d.key + ": a logical volume holds a raw image, the source disk is " +
                d.format + " (use --map to a file target)");
  if (!size) return true;
  if (!reuse)
    throw Error("disk " + d.key + ": logical volume " + v.name() +
                " already exists on the destination; remove it or pass --reuse");
  if (*size != d.virtual_size)
    throw Error("--reuse " + v.path() + ": it is " + std::to_string(*size) +
                " bytes, the source disk " + std::to_string(d.virtual_size) + " bytes");
  return false;
}

// Free space per volume group, for every volume created in it together.
void check_group_space(const std::vector<std::pair<proto::Disk, std::string>>& targets) {
  std::map<std::string, std::uint64_t> need;
  for (const auto& [disk, target] : targets)
    if (auto v = storage::volume_at(target))
      need[v->vg] = checked_add(need[v->vg], disk.virtual_size, "the disks in " + v->vg);
  for (const auto& [vg, bytes] : need) {
    std::uint64_t free = storage::group_space(vg).free;
    if (free < bytes)
      throw Error("not enough space in volume group " + vg + ": the disks need " +
                  format_bytes(bytes) + ", " + format_bytes(free) + " free");
  }
}

// Free space per filesystem, for every disk that lands on it together.
void check_space(const std::vector<std::pair<proto::Disk, std::string>>& targets) {
  std::map<dev_t, std::pair<std::string, std::uint64_t>> need;
  for (const auto& [disk, target] : targets) {
    if (storage::volume_at(target)) continue;
    std::string dir = parent_dir(target);
    struct stat st;
    if (::stat(dir.c_str(), &st) < 0)
      throw Error("disk " + disk.key + ": target directory " + dir +
                  " does not exist on the destination (create it, or use --map)");
    auto& n = need[st.st_dev];
    n.first = dir;
    n.second = checked_add(n.second, disk.allocated, "the disks on " + dir);
  }
  for (const auto& [dev, n] : need) {
    struct statvfs vfs;
    if (::statvfs(n.first.c_str(), &vfs) < 0) throw SystemError("statvfs " + n.first, errno);
    std::uint64_t avail = checked_mul(vfs.f_bavail, vfs.f_frsize, "free space in " + n.first);
    if (avail < n.second)
      throw Error("not enough space in " + n.first + ": the disks need " +
                  format_bytes(n.second) + ", " + format_bytes(avail) + " free");
  }
}

}  // namespace

TargetPlan plan_targets(const std::vector<proto::Disk>& disks, const vm::PathMap& map,
                        bool reuse, const policy::Policy& policy) {
  TargetPlan plan;
  for (auto d : disks) {
    std::string target = map.map_path(d.target.empty() ? d.file : d.target);
    if (auto volume = storage::volume_at(target)) {
      if (plan_volume(d, *volume, reuse, policy)) plan.to_create.emplace_back(d, target);
    } else {
      with_context("disk " + d.key, [&] { policy::check_image(target, policy); });
      plan_file(d, target, reuse, plan);
    }
    d.file = target;
    d.target.clear();
    plan.disks.push_back(d);
  }
  check_space(plan.to_create);
  check_group_space(plan.to_create);
  return plan;
}

std::string describe_targets(const TargetPlan& plan) {
  std::string out;
  for (const auto& d : plan.disks) {
    bool create = false;
    for (const auto& [c, t] : plan.to_create) create = create || t == d.file;
    out += "  disk " + d.key + ": " + d.format + ", " + format_bytes(d.virtual_size) +
           " virtual, " + format_bytes(d.allocated) + " allocated -> " + d.file +
           (d.shared ? " (shared, not copied)" : create ? " (will be created)" : " (reused)") +
           "\n";
  }
  return out;
}

void create_images(const TargetPlan& plan, vm::DestState& state) {
  for (const auto& [d, target] : plan.to_create) {
    if (auto volume = storage::volume_at(target)) {
      // Recorded once made: a failing lvcreate undoes its own work, and a
      // volume of that name someone else made meanwhile is not ours.
      with_context("disk " + d.key, [&] { storage::create_volume(*volume, d.virtual_size); });
      state.created.push_back(target);
      save(state);
      continue;
    }
    run_capture({"qemu-img", "create", "-q", "-f", d.format, "-o", "preallocation=off", target,
                 std::to_string(d.virtual_size)});
    state.created.push_back(target);
    save(state);
    if (::chmod(target.c_str(), 0600) < 0) throw SystemError("chmod " + target, errno);
  }
}

void remove_image(const std::string& path) {
  auto volume = storage::volume_at(path);
  if (!volume) return remove_file(path);
  if (storage::volume_size(*volume)) storage::remove_volume(*volume);
}

}  // namespace lsm::phases

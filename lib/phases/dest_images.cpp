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

// Free space per filesystem, for every disk that lands on it together.
void check_space(const std::vector<std::pair<proto::Disk, std::string>>& targets) {
  std::map<dev_t, std::pair<std::string, std::uint64_t>> need;
  for (const auto& [disk, target] : targets) {
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
    with_context("disk " + d.key, [&] { policy::check_image(target, policy); });
    if (d.shared) {
      if (!path_exists(target))
        throw Error("shared disk " + d.key + ": " + target +
                    " is not visible on the destination");
    } else if (path_exists(target)) {
      if (!reuse)
        throw Error("disk " + d.key + ": target file " + target +
                    " already exists on the destination; remove it or pass --reuse");
      check_reusable(d, target);
    } else {
      plan.to_create.emplace_back(d, target);
    }
    d.file = target;
    d.target.clear();
    plan.disks.push_back(d);
  }
  check_space(plan.to_create);
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
    run_capture({"qemu-img", "create", "-q", "-f", d.format, "-o", "preallocation=off", target,
                 std::to_string(d.virtual_size)});
    state.created.push_back(target);
    save(state);
    if (::chmod(target.c_str(), 0600) < 0) throw SystemError("chmod " + target, errno);
  }
}

}  // namespace lsm::phases

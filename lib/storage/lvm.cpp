#include "storage/lvm.hpp"

#include <cctype>
#include <charconv>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "core/subprocess.hpp"
#include "core/util.hpp"

namespace lsm::storage {

namespace {

// LVM's rules for volume group and logical volume names (lvm(8), VALID
// NAMES), which also keep them single path components.
bool lvm_name(const std::string& s) {
  if (s.empty() || s.size() > 127 || s[0] == '-' || s == "." || s == "..") return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '_' || c == '.' ||
          c == '-'))
      return false;
  return true;
}

std::uint64_t number(const std::string& text, const std::string& what) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error(what + ": LVM printed '" + text + "', not a number of bytes");
  return n;
}

// Fields of each line of an LVM report, in bytes where they are sizes.
std::vector<std::vector<std::string>> report(const std::vector<std::string>& argv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(run_capture(argv));
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string f; fields >> f;) row.push_back(f);
    if (!row.empty()) rows.push_back(row);
  }
  return rows;
}

}  // namespace

std::optional<Volume> volume_at(const std::string& path) {
  const std::string prefix = "/dev/";
  if (path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos) return std::nullopt;
  Volume v{rest.substr(0, slash), rest.substr(slash + 1)};
  // /dev/mapper, /dev/disk/by-id and the like are not volume groups.
  if (!lvm_name(v.vg) || !lvm_name(v.lv) || v.vg == "mapper" || v.vg == "disk")
    return std::nullopt;
  return v;
}

std::optional<std::uint64_t> volume_size(const Volume& v) {
  auto rows = with_context("volume group " + v.vg, [&] {
    return report({"lvs", "--noheadings", "--nosuffix", "--units", "b", "-o", "lv_name,lv_size",
                   "--", v.vg});
  });
  for (const auto& row : rows)
    if (row.size() == 2 && row[0] == v.lv) return number(row[1], "size of " + v.name());
  return std::nullopt;
}

GroupSpace group_space(const std::string& vg) {
  auto rows = with_context("volume group " + vg, [&] {
    return report({"vgs", "--noheadings", "--nosuffix", "--units", "b", "-o",
                   "vg_free,vg_extent_size", "--", vg});
  });
  if (rows.size() != 1 || rows[0].size() != 2)
    throw Error("volume group " + vg + ": vgs printed no free space for it");
  return {number(rows[0][0], "free space of " + vg), number(rows[0][1], "extent size of " + vg)};
}

void create_volume(const Volume& v, std::uint64_t bytes) {
  GroupSpace g = group_space(v.vg);
  if (g.extent == 0 || bytes % g.extent != 0)
    throw Error("logical volume " + v.name() + ": " + std::to_string(bytes) +
                " bytes is not a whole number of the group's " + format_bytes(g.extent) +
                " extents; LVM would round it up and the guest would see another disk size "
                "(create the volume by hand and pass --reuse, or use --map to another group)");
  with_context("creating logical volume " + v.name(), [&] {
    run_capture({"lvcreate", "-q", "-y", "--wipesignatures", "n", "-L",
                 std::to_string(bytes) + "b", "-n", v.lv, "--", v.vg});
  });
}

void remove_volume(const Volume& v) {
  with_context("removing logical volume " + v.name(), [&] {
    run_capture({"lvremove", "-q", "-y", "--", v.name()});
  });
}

}  // namespace lsm::storage

#include "xen/disks.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/subprocess.hpp"
#include "json/json.hpp"
#include "storage/lvm.hpp"

namespace lsm::xen {

namespace {

struct ParsedConfig {
  explicit ParsedConfig(Libxl& x, const std::string& json) {
    libxl_domain_config_init(&cfg);
    check(libxl_domain_config_from_json(x.ctx(), &cfg, json.c_str()),
          "parsing the domain configuration");
  }
  ~ParsedConfig() { libxl_domain_config_dispose(&cfg); }
  libxl_domain_config cfg;
};

// libxl's stored configuration may leave the backend to be chosen at
// attach time; xenstore says what was actually chosen.
libxl_disk_backend actual_backend(Libxl& x, std::uint32_t domid, const libxl_device_disk& d) {
  if (d.backend != LIBXL_DISK_BACKEND_UNKNOWN) return d.backend;
  int n = 0;
  libxl_device_disk* list = libxl_device_disk_list(x.ctx(), domid, &n);
  libxl_disk_backend b = LIBXL_DISK_BACKEND_UNKNOWN;
  for (int i = 0; i < n; ++i)
    if (list[i].vdev && d.vdev && std::strcmp(list[i].vdev, d.vdev) == 0) b = list[i].backend;
  libxl_device_disk_list_free(list, n);
  return b;
}

std::string format_name(libxl_disk_format f) {
  const char* s = libxl_disk_format_to_string(f);
  return s ? s : "unknown";
}

}  // namespace

std::vector<proto::Disk> domain_disks(Libxl& x, std::uint32_t domid, const std::string& config_json,
                                   const std::vector<std::string>& shared_paths) {
  ParsedConfig p(x, config_json);
  const libxl_domain_config& cfg = p.cfg;
  bool hvm = cfg.c_info.type == LIBXL_DOMAIN_TYPE_HVM;
  bool platform_pci = true;
  if (hvm) {
    if (cfg.b_info.device_model_version != LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN)
      throw Error("domain " + std::to_string(domid) +
                  ": only device_model_version=\"qemu-xen\" can be migrated with its disks");
    if (!libxl_defbool_is_default(cfg.b_info.device_model_stubdomain) &&
        libxl_defbool_val(cfg.b_info.device_model_stubdomain))
      throw Error("domain " + std::to_string(domid) +
                  ": a stub-domain device model is not supported (its QMP is unreachable)");
    if (!libxl_defbool_is_default(cfg.b_info.u.hvm.xen_platform_pci))
      platform_pci = libxl_defbool_val(cfg.b_info.u.hvm.xen_platform_pci);
  }
  std::vector<proto::Disk> out;
  for (int i = 0; i < cfg.num_disks; ++i) {
    const libxl_device_disk& d = cfg.disks[i];
    std::string vdev = d.vdev ? d.vdev : "disk" + std::to_string(i);
    if (d.format == LIBXL_DISK_FORMAT_EMPTY || !d.pdev_path) {
      log::info("disk " + vdev + ": no medium, nothing to copy");
      continue;
    }
    std::string file = d.pdev_path;
    std::string what = "disk " + vdev + " (" + file + ")";
    // The guest cannot change a read-only CD-ROM, so the destination may
    // open the same path; a writable one would be left behind with its writes.
    if (d.is_cdrom) {
      if (d.readwrite)
        throw Error(what + ": a writable CD-ROM, which lsm does not copy; make it read-only "
                    "(access=ro) or eject it");
      log::info(what + ": read-only CD-ROM, not copied");
      continue;
    }
    if (d.format != LIBXL_DISK_FORMAT_RAW && d.format != LIBXL_DISK_FORMAT_QCOW2)
      throw Error(what + ": format " + format_name(d.format) +
                  " is not supported; convert it to raw or qcow2");
    libxl_disk_backend backend = actual_backend(x, domid, d);
    bool qemu_only = backend == LIBXL_DISK_BACKEND_QDISK || (hvm && !platform_pci);
    if (!qemu_only)
      throw Error(what + ": served by the dom0 kernel (backend " +
                  std::string(libxl_disk_backend_to_string(backend)) +
                  "), so its writes bypass QEMU and cannot be mirrored; add "
                  "backendtype=qdisk to the disk's configuration");
    struct stat st;
    if (file.empty() || file[0] != '/' || ::stat(file.c_str(), &st) < 0 ||
        !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
      throw Error(what + ": not an image file or a logical volume with an absolute path");
    proto::Disk disk;
    disk.key = vdev;
    disk.file = file;
    disk.format = format_name(d.format);
    if (S_ISBLK(st.st_mode)) {
      auto volume = storage::volume_at(file);
      if (!volume)
        throw Error(what + ": a block device lsm moves only as an LVM logical volume named "
                    "/dev/VG/LV (the destination creates one like it)");
      if (d.format != LIBXL_DISK_FORMAT_RAW)
        throw Error(what + ": a logical volume holds a raw image, not " + disk.format);
      auto size = with_context(what, [&] { return storage::volume_size(*volume); });
      if (!size) throw Error(what + ": LVM lists no volume " + volume->name());
      // A volume holds all of its extents, whatever the guest wrote.
      disk.virtual_size = disk.allocated = *size;
    } else {
      auto info = json::parse(run_capture({"qemu-img", "info", "-U", "--output=json", "-f",
                                           disk.format, file}),
                              file);
      disk.virtual_size = json::u64_at(info, "virtual-size", file);
      disk.allocated = json::u64_at(info, "actual-size", file);
      if (json::find(info, "backing-filename"))
        throw Error(what + ": has a backing file; flatten it first (qemu-img convert)");
    }
    disk.shared = std::find(shared_paths.begin(), shared_paths.end(), file) != shared_paths.end();
    out.push_back(disk);
  }
  return out;
}

}  // namespace lsm::xen

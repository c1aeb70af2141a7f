#include "xen/config_override.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace lsm::xen {
namespace {

// libxl's JSON of a configuration as xl create --dryrun prints it, with
// only the members the override reads.
std::string config(const std::string& name, const std::string& type, const std::string& disks) {
  return "{\"c_info\":{\"type\":\"" + type + "\",\"name\":\"" + name + "\"},\"disks\":[" + disks +
         "]}";
}

std::string disk(const std::string& vdev, const std::string& path,
                 const std::string& extra = ",\"format\":\"raw\"") {
  return "{\"pdev_path\":\"" + path + "\",\"vdev\":\"" + vdev + "\"" + extra + "}";
}

std::vector<proto::Disk> running_disks() {
  proto::Disk a, b;
  a.key = "xvda", a.file = "/var/lib/xen/images/g.raw", a.format = "raw";
  b.key = "xvdb", b.file = "/var/lib/xen/images/g-data.qcow2", b.format = "qcow2";
  return {a, b};
}

std::string refused(const std::string& json) {
  auto disks = running_disks();
  try {
    apply_config_override(json, "-C g.cfg", "g", "pv", disks);
  } catch (const Error& e) {
    return describe(e);
  }
  ADD_FAILURE() << "not refused: " << json;
  return {};
}

TEST(ConfigOverride, each_disk_takes_its_path_there_by_vdev) {
  auto disks = running_disks();
  apply_config_override(config("g", "pv",
                               disk("xvdb", "/srv/xen/g-data.qcow2", ",\"format\":\"qcow2\"") +
                                   "," + disk("xvda", "/srv/xen/g.raw") + "," +
                                   disk("xvdc", "/srv/iso/install.iso", ",\"is_cdrom\":1") + "," +
                                   disk("xvdd", "", ",\"format\":\"empty\"")),
                        "-C g.cfg", "g", "pv", disks);
  EXPECT_EQ(disks[0].target, "/srv/xen/g.raw");
  EXPECT_EQ(disks[1].target, "/srv/xen/g-data.qcow2");
  EXPECT_EQ(disks[0].file, "/var/lib/xen/images/g.raw") << "the source path stays";
}

TEST(ConfigOverride, a_format_left_to_libxl_is_the_running_one) {
  auto disks = running_disks();
  apply_config_override(
      config("g", "pv", disk("xvda", "/srv/a", "") + "," +
                            disk("xvdb", "/srv/b", ",\"format\":\"unknown\"")),
      "-C g.cfg", "g", "pv", disks);
  EXPECT_EQ(disks[1].target, "/srv/b");
}

TEST(ConfigOverride, refuses_another_name_naming_the_fix) {
  EXPECT_EQ(refused(config("web2", "pv", "")),
            "-C g.cfg: it names the domain 'web2', not 'g'; lsm keeps the domain's name "
            "(set name=\"g\")");
}

TEST(ConfigOverride, refuses_another_guest_type) {
  EXPECT_NE(refused(config("g", "hvm", "")).find("a hvm guest, but 'g' runs as a pv guest"),
            std::string::npos);
}

TEST(ConfigOverride, refuses_a_missing_disk) {
  EXPECT_EQ(refused(config("g", "pv", disk("xvda", "/srv/g.raw"))),
            "-C g.cfg: no disk xvdb, which 'g' has (/var/lib/xen/images/g-data.qcow2); a live "
            "guest keeps its disks");
}

TEST(ConfigOverride, refuses_a_new_disk) {
  std::string msg = refused(config(
      "g", "pv",
      disk("xvda", "/srv/a") + "," + disk("xvdb", "/srv/b", ",\"format\":\"qcow2\"") + "," +
          disk("xvde", "/srv/new.raw")));
  EXPECT_NE(msg.find("disk xvde (/srv/new.raw) is not one of 'g''s disks"), std::string::npos)
      << msg;
}

TEST(ConfigOverride, refuses_another_format) {
  std::string msg = refused(config("g", "pv", disk("xvda", "/srv/a") + "," + disk("xvdb", "/srv/b")));
  EXPECT_NE(msg.find("disk xvdb is raw there, qcow2 on this host"), std::string::npos) << msg;
}

TEST(ConfigOverride, refuses_what_is_not_a_configuration) {
  EXPECT_NE(refused("[1]").find("-C g.cfg: not a domain configuration"), std::string::npos);
  EXPECT_NE(refused("{\"disks\":[]}").find("c_info"), std::string::npos);
}

}  // namespace
}  // namespace lsm::xen

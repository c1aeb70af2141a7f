#include "xen/config_check.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "testing/temp_dir.hpp"

namespace lsm::xen {
namespace {

// libxl's JSON of a domain configuration, as libxl_domain_config_to_json
// writes it, with only the members the check reads.
class XenConfig : public ::testing::Test {
 protected:
  XenConfig() {
    p_.image_roots = {dir_.path()};
    p_.origin = "t.conf";
  }
  void check(const std::string& b_info, const std::string& disks, const std::string& nics = "[]") {
    check_config("{\"c_info\":{\"name\":\"g\"},\"b_info\":" + b_info + ",\"disks\":" + disks +
                     ",\"nics\":" + nics + "}",
                 {"xvda"}, p_, "/run/lsm");
  }
  // The whole message, as the tool prints it (context: nested).
  std::string refused(const std::string& b_info, const std::string& disks,
                      const std::string& nics = "[]") {
    try {
      check(b_info, disks, nics);
    } catch (const Error& e) {
      return describe(e);
    }
    ADD_FAILURE() << "not refused";
    return {};
  }
  std::string disk(const std::string& vdev, const std::string& path) {
    return "{\"pdev_path\":\"" + path + "\",\"vdev\":\"" + vdev + "\",\"backend\":\"qdisk\"}";
  }

  lsm::testing::TempDir dir_{"config_check_test"};
  policy::Policy p_ = policy::defaults();
};

TEST_F(XenConfig, a_plain_pv_domain_passes) {
  EXPECT_NO_THROW(check("{\"kernel\":\"/lab/vmlinuz\"}",
                        "[" + disk("xvda", "/elsewhere/copied.raw") + "," +
                            disk("xvdb", dir_.path() + "/ro.raw") + "]",
                        "[{\"script\":\"vif-bridge\"},{\"script\":\"/etc/xen/scripts/vif-nat\"}]"));
}

TEST_F(XenConfig, a_disk_not_copied_must_be_inside_the_image_roots) {
  std::string msg = refused("{}", "[" + disk("xvdb", "/etc/shadow") + "]");
  EXPECT_NE(msg.find("disk xvdb: image path /etc/shadow is outside the image roots (image_roots"),
            std::string::npos)
      << msg;
}

TEST_F(XenConfig, hotplug_scripts_come_only_from_the_script_directory) {
  std::string msg = refused("{}", "[]", "[{\"script\":\"/tmp/evil\"}]");
  EXPECT_NE(msg.find("vif script /tmp/evil is outside the Xen script directory /etc/xen/scripts "
                     "(xen_script_dir"),
            std::string::npos)
      << msg;
  refused("{}", "[]", "[{\"script\":\"../../../tmp/evil\"}]");
  refused("{}", "[{\"vdev\":\"xvdc\",\"script\":\"/tmp/block-evil\"}]");
}

TEST_F(XenConfig, bootloader_and_device_model_need_the_policy) {
  EXPECT_NE(refused("{\"bootloader\":\"/bin/sh\"}", "[]").find("(xen_allow_bootloader"),
            std::string::npos);
  EXPECT_NE(refused("{\"device_model\":\"/tmp/dm\"}", "[]").find("(xen_allow_device_model_override"),
            std::string::npos);
  EXPECT_NE(refused("{\"extra\":[\"-plugin\",\"x\"]}", "[]").find("(xen_allow_device_model_override"),
            std::string::npos);
  p_.xen_allow_bootloader = p_.xen_allow_device_model_override = true;
  EXPECT_NO_THROW(check("{\"bootloader\":\"pygrub\",\"device_model\":\"/usr/bin/qemu\"}", "[]"));
}

TEST_F(XenConfig, an_hvm_serial_file_must_be_in_the_run_or_file_directories) {
  EXPECT_NO_THROW(check("{\"type.hvm\":{\"serial\":\"file:/run/lsm/g.log\"}}", "[]"));
  std::string msg = refused("{\"type.hvm\":{\"serial_list\":[\"pty\",\"file:/etc/x\"]}}", "[]");
  EXPECT_NE(msg.find("serial file:/etc/x"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(file_dirs"), std::string::npos) << msg;
}

}  // namespace
}  // namespace lsm::xen

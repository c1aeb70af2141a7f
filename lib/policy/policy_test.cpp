#include "policy/policy.hpp"

#include <stdlib.h>

#include <fstream>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "testing/expect_throw.hpp"
#include "testing/temp_dir.hpp"

namespace lsm::policy {
namespace {

using testing::expect_throw;
using Strings = std::vector<std::string>;

TEST(Policy, defaults_allow_only_the_usual_places) {
  Policy p = defaults();
  EXPECT_EQ(p.image_roots, (Strings{"/var/lib/libvirt/images", "/var/lib/xen/images",
                                    "/var/lib/lsm/images", "/srv/vm"}));
  EXPECT_EQ(p.emulators.front(), "/usr/bin/qemu-system-x86_64");
  EXPECT_TRUE(p.file_dirs.empty());
  EXPECT_TRUE(p.volume_groups.empty());
  EXPECT_FALSE(p.xen_allow_bootloader);
  EXPECT_FALSE(p.xen_allow_device_model_override);
  EXPECT_EQ(p.xen_script_dir, "/etc/xen/scripts");
  EXPECT_EQ(p.origin, "built-in defaults");
}

TEST(Policy, a_key_in_the_file_replaces_its_default_and_repeats_add) {
  Policy p = parse(
      "# comment\n"
      "\n"
      "image_roots = /data/vms /srv/vm/   # trailing comment\n"
      "image_roots=/nvme\n"
      "file_dirs = /var/log/vm\n"
      "volume_groups = vg0 vg-ssd\n"
      "xen_allow_bootloader = yes\n"
      "xen_script_dir = /usr/local/etc/xen/scripts\n",
      "p.conf");
  EXPECT_EQ(p.image_roots, (Strings{"/data/vms", "/srv/vm", "/nvme"}));
  EXPECT_EQ(p.file_dirs, Strings{"/var/log/vm"});
  EXPECT_EQ(p.volume_groups, (Strings{"vg0", "vg-ssd"}));
  EXPECT_TRUE(p.xen_allow_bootloader);
  EXPECT_EQ(p.xen_script_dir, "/usr/local/etc/xen/scripts");
  EXPECT_EQ(p.emulators, defaults().emulators);  // not named: the default
  EXPECT_EQ(p.origin, "p.conf");
}

TEST(Policy, an_empty_value_allows_nothing) {
  EXPECT_TRUE(parse("helpers =\n", "p.conf").helpers.empty());
}

TEST(Policy, errors_name_the_file_and_line) {
  auto bad = [](const std::string& text) {
    return expect_throw<Error>([&] { parse("# ok\n" + text + "\n", "p.conf"); });
  };
  EXPECT_EQ(bad("image_root = /x"), "p.conf:2: unknown key 'image_root'");
  EXPECT_EQ(bad("image_roots /x"), "p.conf:2: expected 'KEY = VALUE...'");
  EXPECT_EQ(bad("image_roots = relative/dir"),
            "p.conf:2: image_roots: 'relative/dir' is not an absolute path without '.' or '..'");
  EXPECT_NE(bad("image_roots = /a/../etc").find("'.' or '..'"), std::string::npos);
  EXPECT_EQ(bad("xen_allow_bootloader = maybe"), "p.conf:2: xen_allow_bootloader: expected yes or no");
  EXPECT_EQ(bad("qemu_options = -plugin"),
            "p.conf:2: qemu_options: '-plugin': name options without their dash");
}

TEST(Policy, load_reads_the_named_file_or_LSM_POLICY) {
  lsm::testing::TempDir dir("policy_test");
  std::string file = dir.path() + "/p.conf";
  std::ofstream(file) << "image_roots = /here\n";
  EXPECT_EQ(load(file).image_roots, Strings{"/here"});
  ::setenv("LSM_POLICY", file.c_str(), 1);
  EXPECT_EQ(load("").origin, file);
  ::unsetenv("LSM_POLICY");
  std::string msg = expect_throw<Error>([&] { load(dir.path() + "/missing.conf"); });
  EXPECT_NE(msg.find("reading the host policy " + dir.path() + "/missing.conf"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace lsm::policy

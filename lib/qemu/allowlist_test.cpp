#include "qemu/allowlist.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "testing/expect_throw.hpp"

namespace lsm::qemu {
namespace {

using testing::expect_throw;

class Allowlist : public ::testing::Test {
 protected:
  Allowlist() {
    p_.image_roots = {"/img"};
    p_.boot_dirs = {"/build"};
    p_.origin = "test.conf";
  }

  void allowed(const std::string& option, const std::string& value) {
    EXPECT_NO_THROW(check_options(cmd(option, value), p_, "/run/lsm")) << option << " " << value;
  }

  // The refusal's message, which must name the policy key.
  std::string refused(const std::string& option, const std::string& value,
                      const std::string& key) {
    std::string msg =
        expect_throw<Error>([&] { check_options(cmd(option, value), p_, "/run/lsm"); });
    EXPECT_NE(msg.find("-" + option), std::string::npos) << msg;
    EXPECT_NE(msg.find("(" + key + " in the host policy, test.conf)"), std::string::npos) << msg;
    return msg;
  }

  static Cmdline cmd(const std::string& option, const std::string& value) {
    return Cmdline{"/usr/bin/qemu-system-x86_64", {{option, value}}};
  }

  policy::Policy p_ = policy::defaults();
};

TEST_F(Allowlist, emulator_is_an_allowed_absolute_path_or_its_bare_name) {
  EXPECT_EQ(allowed_emulator("/usr/bin/qemu-system-x86_64", p_), "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(allowed_emulator("qemu-system-x86_64", p_), "/usr/bin/qemu-system-x86_64");
  for (const char* bad : {"sh", "/bin/sh", "./qemu-system-x86_64", "/tmp/qemu-system-x86_64",
                          "/usr/bin/../bin/qemu-system-x86_64"}) {
    std::string msg = expect_throw<Error>([&] { allowed_emulator(bad, p_); });
    EXPECT_NE(msg.find("(emulators in the host policy"), std::string::npos) << msg;
  }
}

TEST_F(Allowlist, the_test_guest_command_line_passes) {
  Cmdline c = parse_cmdline(
      {"qemu-system-x86_64", "-accel", "tcg", "-name", "g", "-m", "128", "-smp", "1",
       "-nodefaults", "-display", "none", "-no-reboot", "-kernel", "/build/cache/vmlinuz",
       "-initrd", "/build/guest/initramfs.cpio.gz", "-append", "console=ttyS0 lsm.blocks=/x",
       "-serial", "file:/run/lsm/guest/g-console.log", "-serial",
       "file:/run/lsm/guest/g-ack.log", "-pidfile", "/run/lsm/qemu/g.pid", "-drive",
       "file=/img/g-0.raw,format=raw,if=none,id=disk0,cache=none", "-device",
       "virtio-blk-pci,drive=disk0,serial=disk0", "-blockdev",
       "driver=file,filename=/img/n.qcow2,node-name=nf", "-blockdev",
       "driver=qcow2,file=nf,node-name=nq", "-drive", "if=none,id=cd,media=cdrom",
       "-qmp", "unix:/run/lsm/qemu/other.qmp,server=on,wait=off", "-S"});
  EXPECT_NO_THROW(check_options(c, p_, "/run/lsm"));
}

TEST_F(Allowlist, an_option_outside_the_allowlist_is_refused_naming_the_key) {
  for (const char* o : {"add-fd", "plugin", "runas", "chroot", "fsdev", "virtfs", "readconfig",
                        "mem-path", "set", "option-rom", "fw_cfg", "D", "trace"})
    refused(o, "x", "qemu_options");
}

TEST_F(Allowlist, programs_a_netdev_would_start_are_refused) {
  allowed("netdev", "tap,id=n0,script=no,downscript=no");
  allowed("netdev", "tap,id=n0,script=/etc/qemu-ifup");
  refused("netdev", "tap,id=n0,script=/tmp/evil", "helpers");
  refused("netdev", "tap,id=n0,script=no,downscript=/tmp/evil", "helpers");
  refused("nic", "tap,script=evil.sh", "helpers");
  refused("netdev", "bridge,id=n0,br=br0,helper=/tmp/evil", "helpers");
  std::string msg = expect_throw<Error>(
      [&] { check_options(cmd("netdev", "user,id=n,guestfwd=tcp:10.0.2.1:1-cmd:sh"), p_, "/r"); });
  EXPECT_NE(msg.find("runs a command"), std::string::npos) << msg;
}

TEST_F(Allowlist, files_in_the_allowed_places_pass) {
  allowed("chardev", "file,id=c,path=/run/lsm/guest/c.log");
  allowed("chardev", "socket,id=c,path=/run/lsm/c.sock,server=on");
  allowed("serial", "tcp:127.0.0.1:4444,server=on,wait=off");
  allowed("serial", "mon:stdio");
  allowed("kernel", "/build/vmlinuz");
  allowed("device", "virtio-net-pci,netdev=n,romfile=efi-virtio.rom");
  p_.file_dirs = {"/var/log/vm"};
  allowed("chardev", "file,id=c,path=/var/log/vm/c.log");
}

// Each class of host file a value can name, outside the place its key allows.
TEST_F(Allowlist, files_outside_the_allowed_places_are_refused_naming_the_key) {
  struct Case {
    const char* option;
    const char* value;
    const char* key;
  };
  const Case hostile[] = {
      {"chardev", "file,id=c,path=/etc/passwd", "file_dirs"},
      {"chardev", "socket,id=c,path=/root/.ssh/x", "file_dirs"},
      {"chardev", "file,id=c,path=/run/lsm/../../etc/passwd", "file_dirs"},
      {"chardev", "file,id=c,path=/run/lsm/a,path=/etc/passwd", "file_dirs"},
      {"chardev", "null,id=c,logfile=/etc/passwd", "file_dirs"},
      {"object", "memory-backend-file,id=m,size=1G,mem-path=/etc/x", "file_dirs"},
      {"device", "loader,file=/etc/shadow", "file_dirs"},
      {"serial", "file:/etc/cron.d/x", "file_dirs"},
      {"serial", "/dev/ttyS0", "file_dirs"},
      {"monitor", "unix:/tmp/m.sock,server=on,wait=off", "file_dirs"},
      {"qmp", "unix:path=/tmp/m.sock,server=on", "file_dirs"},
      {"pidfile", "/etc/passwd", "file_dirs"},
      {"pidfile", "relative.pid", "file_dirs"},
      {"drive", "file=/etc/shadow,format=raw,if=virtio", "image_roots"},
      {"drive", "file=/img/../etc/shadow,format=raw", "image_roots"},
      {"drive", "file=disk.img,format=raw", "image_roots"},
      {"drive", "file=json:{\"file.filename\":\"/etc/shadow\"}", "image_roots"},
      {"drive", "file.filename=/etc/shadow,file.driver=file", "image_roots"},
      {"blockdev", "driver=file,node-name=f,filename=/dev/sda", "image_roots"},
      {"blockdev", "driver=qcow2,node-name=q,file=/etc/x,data-file=/etc/y", "image_roots"},
      {"cdrom", "/etc/shadow", "image_roots"},
      {"kernel", "/etc/shadow", "boot_dirs"},
      {"initrd", "/root/secret", "boot_dirs"},
      {"bios", "/tmp/bios.bin", "boot_dirs"},
      {"L", "/tmp", "boot_dirs"},
      {"device", "virtio-net-pci,netdev=n,romfile=/etc/shadow", "boot_dirs"}};
  for (const auto& c : hostile) refused(c.option, c.value, c.key);
}

TEST_F(Allowlist, json_values_are_refused) {
  std::string msg = expect_throw<Error>(
      [&] { check_options(cmd("blockdev", "{\"driver\":\"file\"}"), p_, "/r"); });
  EXPECT_NE(msg.find("JSON"), std::string::npos) << msg;
}

TEST_F(Allowlist, a_widened_policy_allows_what_it_names) {
  p_.qemu_options.push_back("plugin");
  p_.helpers.push_back("/usr/lib/x/plugin.so");
  allowed("plugin", "/usr/lib/x/plugin.so");
  refused("plugin", "file=/tmp/evil.so", "helpers");
}

}  // namespace
}  // namespace lsm::qemu

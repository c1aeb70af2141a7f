#include "qemu/cmdline.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "testing/expect_throw.hpp"

namespace lsm::qemu {
namespace {

using Argv = std::vector<std::string>;

TEST(Cmdline, reads_our_own_argv) {
  Argv self = read_cmdline(::getpid());
  ASSERT_FALSE(self.empty());
  EXPECT_NE(self[0].find("lsm-unit-tests"), std::string::npos);
}

policy::Policy test_policy() {
  policy::Policy p = policy::defaults();
  p.image_roots = {"/data"};
  return p;
}

TEST(Cmdline, destination_moves_qmp_and_waits_for_incoming) {
  Argv src{"qemu-system-x86_64", "-name", "vm1", "-qmp",
           "unix:/run/lsm/qemu/vm1.qmp,server=on,wait=off", "-daemonize",
           "-drive", "file=/srv/vm1.img,if=none,id=d0", "-pidfile", "/srv/run/vm1.pid"};
  policy::Policy p = test_policy();
  Argv dst = destination_argv(src, "/run/lsm/qemu/vm1.qmp", vm::PathMap({"/srv/run=/run/lsm", "/srv=/data"}),
                              Here{p, "/run/lsm", "/run/lsm/qemu/vm1.qmp"});
  Argv want{"/usr/bin/qemu-system-x86_64", "-name", "vm1", "-drive",
            "file=/data/vm1.img,if=none,id=d0", "-pidfile", "/run/lsm/vm1.pid",
            "-qmp", "unix:/run/lsm/qemu/vm1.qmp,server=on,wait=off",
            "-S", "-incoming", "defer"};
  EXPECT_EQ(dst, want);
}

TEST(Cmdline, destination_drops_an_earlier_incoming_and_keeps_other_monitors) {
  Argv src{"/usr/bin/qemu-system-x86_64", "--incoming", "defer", "-qmp",
           "unix:/r/other.sock,server=on,wait=off"};
  policy::Policy p = test_policy();
  Argv dst = destination_argv(src, "/run/lsm/qemu/x.qmp", vm::PathMap({}), Here{p, "/r", "/r/x.qmp"});
  Argv want{"/usr/bin/qemu-system-x86_64", "-qmp", "unix:/r/other.sock,server=on,wait=off",
            "-qmp", "unix:/r/x.qmp,server=on,wait=off", "-S", "-incoming", "defer"};
  EXPECT_EQ(dst, want);
}

TEST(Cmdline, destination_refuses_what_the_policy_does_not_allow_after_mapping) {
  Argv src{"qemu-system-x86_64", "-drive", "file=/srv/vm1.img,if=none,id=d0"};
  policy::Policy p = test_policy();
  std::string msg = testing::expect_throw<Error>([&] {
    destination_argv(src, "/q", vm::PathMap({"/srv=/elsewhere"}), Here{p, "/r", "/r/x.qmp"});
  });
  EXPECT_NE(msg.find("file=/elsewhere/vm1.img is outside the image roots (image_roots"),
            std::string::npos)
      << msg;
}

}  // namespace
}  // namespace lsm::qemu

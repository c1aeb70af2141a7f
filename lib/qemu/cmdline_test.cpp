#include "qemu/cmdline.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

namespace lsm::qemu {
namespace {

using Argv = std::vector<std::string>;

TEST(Cmdline, reads_our_own_argv) {
  Argv self = read_cmdline(::getpid());
  ASSERT_FALSE(self.empty());
  EXPECT_NE(self[0].find("lsm-unit-tests"), std::string::npos);
}

TEST(Cmdline, destination_moves_qmp_and_waits_for_incoming) {
  Argv src{"qemu-system-x86_64", "-name", "vm1", "-qmp",
           "unix:/run/lsm/qemu/vm1.qmp,server=on,wait=off", "-daemonize",
           "-drive", "file=/srv/vm1.img,if=none,id=d0", "-pidfile", "/srv/vm1.pid"};
  Argv dst = destination_argv(src, "/run/lsm/qemu/vm1.qmp", "/run/lsm/qemu/vm1.qmp",
                              vm::PathMap({"/srv=/data"}));
  Argv want{"qemu-system-x86_64", "-name", "vm1", "-drive",
            "file=/data/vm1.img,if=none,id=d0", "-pidfile", "/data/vm1.pid",
            "-qmp", "unix:/run/lsm/qemu/vm1.qmp,server=on,wait=off",
            "-S", "-incoming", "defer"};
  EXPECT_EQ(dst, want);
}

TEST(Cmdline, destination_drops_an_earlier_incoming_and_keeps_other_monitors) {
  Argv src{"qemu", "--incoming", "defer", "-qmp", "unix:/tmp/other.sock,server=on,wait=off"};
  Argv dst = destination_argv(src, "/run/lsm/qemu/x.qmp", "/r/x.qmp", vm::PathMap({}));
  Argv want{"qemu", "-qmp", "unix:/tmp/other.sock,server=on,wait=off",
            "-qmp", "unix:/r/x.qmp,server=on,wait=off", "-S", "-incoming", "defer"};
  EXPECT_EQ(dst, want);
}

}  // namespace
}  // namespace lsm::qemu

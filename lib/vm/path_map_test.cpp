#include "vm/path_map.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace lsm::vm {
namespace {

TEST(PathMap, maps_whole_components_only) {
  PathMap m({"/srv/a=/data/b"});
  EXPECT_EQ(m.map_path("/srv/a/disk.img"), "/data/b/disk.img");
  EXPECT_EQ(m.map_path("/srv/a"), "/data/b");
  EXPECT_EQ(m.map_path("/srv/ab/disk.img"), "/srv/ab/disk.img");
}

TEST(PathMap, longest_prefix_wins) {
  PathMap m({"/srv=/x", "/srv/fast/=/nvme"});
  EXPECT_EQ(m.map_path("/srv/fast/d.qcow2"), "/nvme/d.qcow2");
  EXPECT_EQ(m.map_path("/srv/slow/d.qcow2"), "/x/slow/d.qcow2");
}

TEST(PathMap, maps_paths_inside_option_strings) {
  PathMap m({"/srv=/x"});
  EXPECT_EQ(m.map_arg("file=/srv/d.img,format=raw,if=none"), "file=/x/d.img,format=raw,if=none");
  EXPECT_EQ(m.map_arg("file:/srv/serial.log"), "file:/x/serial.log");
  EXPECT_EQ(m.map_arg("/srv/kernel"), "/x/kernel");
  EXPECT_EQ(m.map_arg("console=/srv/no"), "console=/x/no");
  EXPECT_EQ(m.map_arg("-m"), "-m");
}

TEST(PathMap, rejects_malformed_specs) {
  EXPECT_THROW(PathMap({"relative=/x"}), UsageError);
  EXPECT_THROW(PathMap({"/x"}), UsageError);
  EXPECT_THROW(PathMap({"/x="}), UsageError);
  EXPECT_THROW(PathMap({"/=/x"}), UsageError);
}

}  // namespace
}  // namespace lsm::vm

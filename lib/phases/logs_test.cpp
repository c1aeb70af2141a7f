#include "phases/logs.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "testing/temp_dir.hpp"

namespace lsm::phases {
namespace {

using lsm::testing::TempDir;

// print_logs of the files a backend names, through a pipe.
std::string logs_of(const std::vector<std::string>& files, const std::string& run_dir) {
  static backend::Backend table;
  table.log_files = [files](const backend::VmRef&) { return files; };
  SourceOptions o;
  o.name = "g1";
  o.run_dir = run_dir;
  o.backends = [](backend::Kind) -> const backend::Backend& { return table; };
  std::FILE* f = std::tmpfile();
  print_logs(o, ::fileno(f));
  std::rewind(f);
  std::stringstream out;
  for (int c; (c = std::fgetc(f)) != EOF;) out.put(static_cast<char>(c));
  std::fclose(f);
  return out.str();
}

TEST(PrintLogs, heads_each_existing_log_and_leaves_out_missing_ones) {
  TempDir t("lsm-logs");
  std::ofstream(t.path() + "/a.log") << "started\nno newline at the end";
  EXPECT_EQ(logs_of({t.path() + "/a.log", t.path() + "/none.log"}, t.path()),
            "==> " + t.path() + "/a.log <==\nstarted\nno newline at the end\n");
}

TEST(PrintLogs, keeps_the_last_4_MiB_of_a_long_log) {
  TempDir t("lsm-logs");
  {
    std::ofstream big(t.path() + "/big.log");
    big << std::string(1 << 20, 'o') << std::string((4 << 20) - 4, 'n') << "end\n";
  }
  std::string out = logs_of({t.path() + "/big.log"}, t.path());
  std::string head = "==> " + t.path() + "/big.log <==\n";
  ASSERT_EQ(out.size(), head.size() + (4u << 20));
  EXPECT_EQ(out.substr(head.size(), 1), "n");
  EXPECT_EQ(out.substr(out.size() - 4), "end\n");
}

TEST(PrintLogs, refuses_a_log_that_is_a_symlink) {
  TempDir t("lsm-logs");
  std::ofstream(t.path() + "/secret") << "not a log\n";
  ASSERT_EQ(::symlink((t.path() + "/secret").c_str(), (t.path() + "/g1.log").c_str()), 0);
  EXPECT_THROW(logs_of({t.path() + "/g1.log"}, t.path()), SystemError);
}

}  // namespace
}  // namespace lsm::phases

// The phase layer against a scripted backend: the order of the steps on
// each host, and what each failure rolls back.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/unique_fd.hpp"
#include "core/util.hpp"
#include "phases/dmstate.hpp"
#include "phases/mirror.hpp"
#include "phases/ramstream.hpp"
#include "phases/resume.hpp"
#include "phases/rollback.hpp"
#include "testing/expect_throw.hpp"
#include "testing/scripted_backend.hpp"
#include "testing/temp_dir.hpp"
#include "vm/names.hpp"
#include "vm/source_state.hpp"

namespace lsm::phases {
namespace {

using Calls = std::vector<std::string>;
using testing::expect_throw;

// An in-memory file: what a phase writes, or what it is fed.
class Buffer {
 public:
  explicit Buffer(const std::string& content = "") : fd_(::memfd_create("phases_test", 0)) {
    write_all(fd_.get(), content, "buffer");
    ::lseek(fd_.get(), 0, SEEK_SET);
  }
  int fd() const { return fd_.get(); }
  std::string text() const {
    std::string s(static_cast<std::size_t>(::lseek(fd_.get(), 0, SEEK_END)), '\0');
    if (::pread(fd_.get(), s.data(), s.size(), 0) != static_cast<ssize_t>(s.size())) return "?";
    return s;
  }

 private:
  UniqueFd fd_;
};

class Phases : public ::testing::Test {
 protected:

  backend::BackendFor scripted() {
    return [this](backend::Kind) -> const backend::Backend& { return be_.table(); };
  }

  // A "vm" message for VM "vm" with one 1 MiB raw disk at image_.
  std::string vm_message() {
    proto::Vm m;
    m.name = "vm";
    m.backend = "qemu";
    json::add(m.config, "running", true, m.config.GetAllocator());
    proto::Disk d;
    d.key = "da";
    d.file = image_;
    d.format = "raw";
    d.virtual_size = d.allocated = 1 << 20;
    m.disks.push_back(d);
    Buffer out;
    proto::write_vm(out.fd(), m);
    return out.text();
  }

  PrepareOptions prepare_options() {
    PrepareOptions o;
    o.run_dir = run_;
    o.backends = scripted();
    return o;
  }

  void prepare_ok() {
    Buffer in(vm_message()), out;
    prepare(prepare_options(), in.fd(), out.fd());
    be_.calls.clear();
  }

  // What receive_ram says of a stream that has only this header.
  std::string refused_stream(const proto::RamStream& header) {
    prepare_ok();
    Buffer stream;
    proto::write_ram_stream(stream.fd(), header);
    ::lseek(stream.fd(), 0, SEEK_SET);
    Buffer out;
    return expect_throw<proto::ProtocolError>(
        [&] { receive_ram(options<RamReceiveOptions>(), stream.fd(), out.fd()); });
  }

  template <typename O>
  O options() {
    O o;
    o.name = "vm";
    o.run_dir = run_;
    o.backends = scripted();
    return o;
  }

  std::string state_file() { return vm::state_file(run_, "vm"); }

  testing::ScriptedBackend be_;
  testing::TempDir dir_{"lsm-phases-test"};
  std::string run_ = dir_.path() + "/run";
  std::string image_ = dir_.path() + "/a.raw";
};

TEST_F(Phases, describe_writes_the_backends_description_as_a_vm_message) {
  Buffer out;
  describe(options<DescribeOptions>(), out.fd());
  EXPECT_EQ(be_.calls, Calls{"describe"});
  EXPECT_NE(out.text().find("\"type\":\"vm\",\"name\":\"vm\",\"backend\":\"qemu\""),
            std::string::npos)
      << out.text();
}

TEST_F(Phases, describe_of_an_unknown_vm_writes_nothing) {
  be_.fail_at = "describe";
  Buffer out;
  expect_throw<Error>([&] { describe(options<DescribeOptions>(), out.fd()); });
  EXPECT_EQ(out.text(), "");
}

TEST_F(Phases, prepare_checks_the_host_creates_images_then_starts_the_backend) {
  Buffer in(vm_message()), out;
  prepare(prepare_options(), in.fd(), out.fd());
  EXPECT_EQ(be_.calls, (Calls{"plan_destination", "start_destination"}));
  EXPECT_TRUE(path_exists(image_));
  EXPECT_TRUE(path_exists(state_file()));
  EXPECT_NE(out.text().find("\"type\":\"prepared\",\"name\":\"vm\",\"qmp\":\"\",\"created\":[\"" +
                            image_ + "\"]"),
            std::string::npos)
      << out.text();
}

TEST_F(Phases, prepare_failing_to_start_rolls_back_what_it_created) {
  be_.fail_at = "start_destination";
  Buffer in(vm_message()), out;
  expect_throw<Error>([&] { prepare(prepare_options(), in.fd(), out.fd()); });
  EXPECT_EQ(be_.calls, (Calls{"plan_destination", "start_destination", "rollback_destination"}));
  EXPECT_FALSE(path_exists(image_));
  EXPECT_FALSE(path_exists(state_file()));
  EXPECT_EQ(out.text(), "");
}

TEST_F(Phases, prepare_on_a_host_that_cannot_take_the_vm_creates_nothing) {
  be_.fail_at = "plan_destination";
  Buffer in(vm_message()), out;
  expect_throw<Error>([&] { prepare(prepare_options(), in.fd(), out.fd()); });
  EXPECT_EQ(be_.calls, Calls{"plan_destination"});
  EXPECT_FALSE(path_exists(image_));
  EXPECT_FALSE(path_exists(state_file()));
}

TEST_F(Phases, prepare_dry_run_prints_the_plan_and_changes_nothing) {
  PrepareOptions o = prepare_options();
  o.dry_run = true;
  Buffer in(vm_message()), out;
  prepare(o, in.fd(), out.fd());
  EXPECT_EQ(be_.calls, Calls{"plan_destination"});
  EXPECT_EQ(out.text().rfind("plan for vm:\n", 0), 0u) << out.text();
  EXPECT_NE(out.text().find("  scripted plan\n"), std::string::npos) << out.text();
  EXPECT_FALSE(path_exists(image_));
  EXPECT_FALSE(path_exists(state_file()));
}

TEST_F(Phases, prepare_refuses_while_an_earlier_migration_left_its_state) {
  prepare_ok();
  PrepareOptions o = prepare_options();
  o.reuse = true;  // past the check that the image exists: to the state file's
  Buffer in(vm_message()), out;
  auto what = expect_throw<Error>([&] { prepare(o, in.fd(), out.fd()); });
  EXPECT_NE(what.find("lsm-resume receive vm --rollback"), std::string::npos) << what;
  EXPECT_TRUE(path_exists(image_)) << "the earlier migration's image must stay";
}

TEST_F(Phases, export_writes_the_backends_exports) {
  prepare_ok();
  Buffer out;
  export_disks(options<DestOptions>(), out.fd());
  EXPECT_EQ(be_.calls, Calls{"export_disks"});
  EXPECT_NE(out.text().find("\"type\":\"exports\",\"socket\":\"/scripted.nbd\""),
            std::string::npos);
}

TEST_F(Phases, send_ram_before_phase_2_writes_nothing) {
  Buffer out;
  auto what = expect_throw<Error>([&] { send_ram(options<RamSendOptions>(), out.fd()); });
  EXPECT_NE(what.find("run phase 2"), std::string::npos) << what;
  EXPECT_EQ(be_.calls, Calls{});
  EXPECT_EQ(out.text(), "");
}

TEST_F(Phases, send_ram_frames_the_backends_stream_and_gives_it_half_the_bandwidth) {
  vm::save_source_state(run_, "vm", {true, 0});
  auto o = options<RamSendOptions>();
  o.bandwidth = 1000;
  Buffer out;
  send_ram(o, out.fd());
  EXPECT_EQ(be_.calls, (Calls{"ram_sender", "send"}));
  EXPECT_EQ(be_.limits_seen.bandwidth, 500u);
  std::string s = out.text();
  auto header = s.find("\"type\":\"ram-stream\"");
  auto payload = s.find(testing::ScriptedBackend::kPayload);
  auto trailer = s.find("\"type\":\"ram-done\",\"bytes\":8,\"disk_bytes\":0,\"paused_at\":\"1000.500000\"");
  ASSERT_NE(trailer, std::string::npos) << s;
  EXPECT_LT(header, payload);
  EXPECT_LT(payload, trailer);
}

TEST_F(Phases, send_ram_failing_in_the_stream_writes_no_trailer) {
  vm::save_source_state(run_, "vm", {true, 0});
  be_.fail_at = "send";
  Buffer out;
  expect_throw<Error>([&] { send_ram(options<RamSendOptions>(), out.fd()); });
  EXPECT_EQ(out.text().find("ram-done"), std::string::npos) << out.text();
}

TEST_F(Phases, receive_ram_hands_the_stream_to_the_backend_and_reports_the_figures) {
  prepare_ok();
  vm::save_source_state(run_, "vm", {true, 0});
  Buffer stream;
  testing::ScriptedBackend source;
  auto so = options<RamSendOptions>();
  so.backends = [&](backend::Kind) -> const backend::Backend& { return source.table(); };
  send_ram(so, stream.fd());
  ::lseek(stream.fd(), 0, SEEK_SET);
  Buffer out;
  receive_ram(options<RamReceiveOptions>(), stream.fd(), out.fd());
  EXPECT_EQ(be_.calls, Calls{"receive_ram"});
  EXPECT_NE(out.text().find("\"phase\":\"ram\",\"ok\":true,\"ram_bytes\":8"), std::string::npos)
      << out.text();
}

TEST_F(Phases, receive_ram_refuses_a_stream_for_another_vm_before_the_backend_sees_it) {
  auto what = refused_stream({"other", "qemu"});
  EXPECT_NE(what.find("stream is for domain 'other'"), std::string::npos) << what;
  EXPECT_EQ(be_.calls, Calls{});
}

TEST_F(Phases, receive_ram_refuses_a_stream_of_another_backend) {
  auto what = refused_stream({"vm", "xen"});
  EXPECT_NE(what.find("a xen stream, but phase 1 prepared a qemu domain"), std::string::npos)
      << what;
  EXPECT_EQ(be_.calls, Calls{});
}

TEST_F(Phases, resume_commits_by_removing_the_state_so_no_rollback_touches_the_images) {
  prepare_ok();
  Buffer out;
  resume_destination(options<DestOptions>(), out.fd());
  EXPECT_NE(out.text().find("\"phase\":\"resume\",\"ok\":true,\"resumed_at\":\"1001.250000\""),
            std::string::npos)
      << out.text();
  EXPECT_FALSE(path_exists(state_file()));
  rollback_destination(options<DestOptions>());
  EXPECT_EQ(be_.calls, Calls{"resume"});
  EXPECT_TRUE(path_exists(image_));
}

TEST_F(Phases, a_failed_resume_keeps_the_state_for_the_rollback) {
  prepare_ok();
  be_.fail_at = "resume";
  Buffer out;
  expect_throw<Error>([&] { resume_destination(options<DestOptions>(), out.fd()); });
  EXPECT_TRUE(path_exists(state_file()));
  EXPECT_EQ(out.text(), "");
  be_.fail_at.clear();
  rollback_destination(options<DestOptions>());
  EXPECT_EQ(be_.calls, (Calls{"resume", "rollback_destination"}));
  EXPECT_FALSE(path_exists(image_));
  EXPECT_FALSE(path_exists(state_file()));
}

TEST_F(Phases, a_destination_rollback_refused_by_the_backend_deletes_nothing) {
  prepare_ok();
  be_.fail_at = "rollback_destination";
  be_.fail_indeterminate = true;
  expect_throw<IndeterminateError>([&] { rollback_destination(options<DestOptions>()); });
  EXPECT_TRUE(path_exists(image_));
  EXPECT_TRUE(path_exists(state_file()));
}

TEST_F(Phases, source_rollback_passes_what_phase_2_recorded_and_forgets_it) {
  vm::save_source_state(run_, "vm", {true, 1});
  rollback_source(options<SourceOptions>());
  EXPECT_EQ(be_.calls, Calls{"rollback_source(recorded)"});
  EXPECT_FALSE(vm::load_source_state(run_, "vm"));
}

TEST_F(Phases, a_failed_quit_keeps_the_source_record) {
  vm::save_source_state(run_, "vm", {true, 1});
  be_.fail_at = "quit_source";
  expect_throw<Error>([&] { quit_source(options<SourceOptions>()); });
  EXPECT_TRUE(vm::load_source_state(run_, "vm"));
}

TEST_F(Phases, mirror_with_nothing_exported_records_the_source_and_mirrors_nothing) {
  Buffer in;
  proto::write_exports(in.fd(), {"", {}});
  ::lseek(in.fd(), 0, SEEK_SET);
  mirror_disks(options<MirrorOptions>(), in.fd());
  EXPECT_EQ(be_.calls, Calls{"device_model"});
  auto state = vm::load_source_state(run_, "vm");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->mirrors, 0);
}

}  // namespace
}  // namespace lsm::phases

// The phase layer against a scripted backend: the order of the steps on
// each host, and what each failure rolls back.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <thread>

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

  // A "vm" message for VM "vm" with one 1 MiB raw disk at image_, asked
  // to land at target (Xen's -C) if given.
  std::string vm_message(const std::string& target = "") {
    proto::Vm m;
    m.name = "vm";
    m.backend = "qemu";
    json::add(m.config, "running", true, m.config.GetAllocator());
    proto::Disk d;
    d.key = "da";
    d.file = image_;
    d.format = "raw";
    d.virtual_size = d.allocated = 1 << 20;
    d.target = target;
    m.disks.push_back(d);
    Buffer out;
    proto::write_vm(out.fd(), m);
    return out.text();
  }

  PrepareOptions prepare_options() {
    PrepareOptions o;
    o.run_dir = run_;
    o.policy_file = policy_file();
    o.backends = scripted();
    return o;
  }

  // The whole message (with its context) of prepare's refusal of message.
  std::string prepare_refused(const std::string& message) {
    Buffer in(message), out;
    try {
      prepare(prepare_options(), in.fd(), out.fd());
    } catch (const Error& e) {
      return describe(e);
    }
    ADD_FAILURE() << "not refused";
    return {};
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

  // The source's record as phases 1 and 2 leave it, with no disk mirrored.
  void mirrored(bool go = false) {
    vm::SourceState s;
    s.was_running = true;
    s.mirrored = true;
    s.go = go;
    vm::save_source_state(run_, "vm", s);
  }

  bool go_recorded() {
    auto s = vm::load_source_state(run_, "vm");
    return s && s->go;
  }

  // What a source sends for "vm" (a stream without the commit), then what
  // follows it: the coordinated source's "go", or nothing.
  std::string stream(bool go) {
    mirrored();
    testing::ScriptedBackend source;
    auto o = options<RamSendOptions>();
    o.backends = [&](backend::Kind) -> const backend::Backend& { return source.table(); };
    Buffer in, out;
    send_ram(o, in.fd(), out.fd());
    if (go) proto::write_go(out.fd(), "vm");
    vm::clear_source_state(run_, "vm");
    return out.text();
  }

  // The destination's answers to a coordinated source: ready, and with
  // ran also the resume.
  std::string answers(bool ran) {
    Buffer out;
    proto::write_ram_result(out.fd(), {8, 0, "1000.500000"});
    if (ran) proto::write_resume_result(out.fd(), 1001.25);
    return out.text();
  }

  // A host policy whose image root is the test's directory.
  std::string policy_file() {
    std::string file = dir_.path() + "/policy.conf";
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    write_all(fd.get(), "image_roots = " + dir_.path() + "\n", file);
    return file;
  }

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

TEST_F(Phases, prepare_puts_a_disk_where_the_source_asked_inside_the_image_roots) {
  std::string there = dir_.path() + "/there.raw";
  Buffer in(vm_message(there)), out;
  prepare(prepare_options(), in.fd(), out.fd());
  EXPECT_TRUE(path_exists(there));
  EXPECT_FALSE(path_exists(image_));
  EXPECT_NE(out.text().find("\"created\":[\"" + there + "\"]"), std::string::npos) << out.text();
}

TEST_F(Phases, prepare_refuses_a_disk_asked_to_land_outside_the_image_roots) {
  std::string what = prepare_refused(vm_message("/etc/lsm-phases-test.raw"));
  EXPECT_NE(what.find("disk da: image path /etc/lsm-phases-test.raw is outside the image roots"),
            std::string::npos)
      << what;
  EXPECT_FALSE(path_exists("/etc/lsm-phases-test.raw"));
  EXPECT_FALSE(path_exists(state_file()));
}

TEST_F(Phases, prepare_refuses_a_logical_volume_in_a_group_the_policy_does_not_name) {
  std::string what = prepare_refused(vm_message("/dev/lsm-phases-test-vg/a"));
  EXPECT_NE(what.find("disk da: volume group lsm-phases-test-vg is not one this host lets "
                      "migrations create volumes in (volume_groups"),
            std::string::npos)
      << what;
  EXPECT_FALSE(path_exists(state_file()));
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
  Buffer in, out;
  auto what = expect_throw<Error>([&] { send_ram(options<RamSendOptions>(), in.fd(), out.fd()); });
  EXPECT_NE(what.find("run phase 2"), std::string::npos) << what;
  EXPECT_EQ(be_.calls, Calls{});
  EXPECT_EQ(out.text(), "");
}

TEST_F(Phases, send_ram_frames_the_backends_stream_and_gives_it_half_the_bandwidth) {
  mirrored();
  auto o = options<RamSendOptions>();
  o.bandwidth = 1000;
  Buffer in, out;
  send_ram(o, in.fd(), out.fd());
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

TEST_F(Phases, send_ram_failing_in_the_stream_writes_no_trailer_and_resumes_the_guest) {
  mirrored();
  be_.fail_at = "send";
  Buffer in, out;
  expect_throw<Error>([&] { send_ram(options<RamSendOptions>(), in.fd(), out.fd()); });
  EXPECT_EQ(out.text().find("ram-done"), std::string::npos) << out.text();
  EXPECT_EQ(be_.calls, (Calls{"ram_sender", "send", "rollback_source(recorded)"}));
}

TEST_F(Phases, receive_ram_without_go_leaves_the_vm_received_and_uncommitted) {
  prepare_ok();
  Buffer in(stream(false)), out;
  receive_ram(options<RamReceiveOptions>(), in.fd(), out.fd());
  EXPECT_EQ(be_.calls, Calls{"receive_ram"});
  EXPECT_NE(out.text().find("\"phase\":\"ram\",\"ok\":true,\"ram_bytes\":8"), std::string::npos)
      << out.text();
  EXPECT_EQ(out.text().find("\"phase\":\"resume\""), std::string::npos) << out.text();
  EXPECT_TRUE(path_exists(state_file()));
  EXPECT_FALSE(vm::is_committed(run_, "vm"));
}

TEST_F(Phases, receive_ram_with_go_commits_durably_then_runs_the_guest) {
  prepare_ok();
  Buffer in(stream(true)), out;
  receive_ram(options<RamReceiveOptions>(), in.fd(), out.fd());
  EXPECT_EQ(be_.calls, (Calls{"receive_ram", "check_resumable", "resume"}));
  EXPECT_NE(out.text().find("\"phase\":\"resume\",\"ok\":true"), std::string::npos)
      << out.text();
  EXPECT_TRUE(vm::is_committed(run_, "vm"));
  EXPECT_FALSE(path_exists(state_file()));
}

TEST_F(Phases, a_commit_whose_guest_does_not_start_is_indeterminate_and_keeps_its_marker) {
  prepare_ok();
  be_.fail_at = "resume";
  Buffer in(stream(true)), out;
  expect_throw<IndeterminateError>(
      [&] { receive_ram(options<RamReceiveOptions>(), in.fd(), out.fd()); });
  EXPECT_TRUE(vm::is_committed(run_, "vm"));
  expect_throw<IndeterminateError>([&] { rollback_destination(options<DestOptions>()); });
  EXPECT_TRUE(path_exists(image_));
}

TEST_F(Phases, a_coordinated_source_says_go_only_once_the_destination_is_ready) {
  mirrored();
  auto o = options<RamSendOptions>();
  o.commit = true;
  o.report = dir_.path() + "/report";
  Buffer in(answers(true)), out;
  send_ram(o, in.fd(), out.fd());
  EXPECT_EQ(be_.calls, (Calls{"ram_sender", "send"}));
  EXPECT_TRUE(go_recorded());
  std::string s = out.text();
  EXPECT_LT(s.find("\"type\":\"ram-done\""), s.find("\"type\":\"go\",\"name\":\"vm\""));
  EXPECT_TRUE(path_exists(o.report));
}

TEST_F(Phases, a_source_without_the_destinations_ready_resumes_its_guest_and_never_says_go) {
  mirrored();
  auto o = options<RamSendOptions>();
  o.commit = true;
  Buffer in, out;
  expect_throw<proto::ProtocolError>([&] { send_ram(o, in.fd(), out.fd()); });
  EXPECT_EQ(be_.calls, (Calls{"ram_sender", "send", "rollback_source(recorded)"}));
  EXPECT_FALSE(go_recorded());
  EXPECT_EQ(out.text().find("\"type\":\"go\""), std::string::npos);
}

TEST_F(Phases, a_source_that_said_go_but_heard_nothing_back_does_not_resume) {
  mirrored();
  auto o = options<RamSendOptions>();
  o.commit = true;
  Buffer in(answers(false)), out;
  auto what = expect_throw<IndeterminateError>([&] { send_ram(o, in.fd(), out.fd()); });
  EXPECT_NE(what.find("lsm-migrate.sh --recover vm"), std::string::npos) << what;
  EXPECT_EQ(be_.calls, (Calls{"ram_sender", "send"}));
  EXPECT_TRUE(go_recorded());
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

TEST_F(Phases, receive_ram_without_listen_refuses_a_stream_on_a_socket) {
  auto what = refused_stream({"vm", "qemu", true});
  EXPECT_NE(what.find("started without --listen"), std::string::npos) << what;
  EXPECT_EQ(be_.calls, Calls{});
}

TEST_F(Phases, the_exports_name_the_ram_socket_of_a_backend_that_takes_one) {
  prepare_ok();
  Buffer out;
  export_disks(options<DestOptions>(), out.fd());
  EXPECT_NE(out.text().find("\"ram_socket\":\"" + vm::ram_socket(run_, "vm") + "\""),
            std::string::npos)
      << out.text();
}

// Phase 3 with the stream on the receiver's socket, both halves joined by
// two pipes as lsm-migrate.sh joins them, each host with its own run
// directory and backend.
TEST_F(Phases, a_stream_on_the_receivers_socket_reaches_the_commit) {
  prepare_ok();
  std::string src_run = dir_.path() + "/src";
  vm::SourceState s;
  s.was_running = s.mirrored = true;
  vm::save_source_state(src_run, "vm", s);
  int stream[2], answers[2];
  ASSERT_EQ(::pipe2(stream, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(answers, O_CLOEXEC), 0);
  UniqueFd stream_in(stream[0]), stream_out(stream[1]), answers_in(answers[0]),
      answers_out(answers[1]);
  auto r = options<RamReceiveOptions>();
  r.listen = true;
  std::string error;
  std::thread receiver([&] {
    try {
      receive_ram(r, stream_in.get(), answers_out.get());
    } catch (const std::exception& e) {
      error = lsm::describe(e);
    }
    answers_out.reset();
  });
  testing::ScriptedBackend source;
  auto o = options<RamSendOptions>();
  o.run_dir = src_run;
  o.backends = [&](backend::Kind) -> const backend::Backend& { return source.table(); };
  o.commit = true;
  o.stream_socket = vm::ram_socket(run_, "vm");
  send_ram(o, answers_in.get(), stream_out.get());
  stream_out.reset();
  receiver.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(source.calls, (Calls{"ram_sender", "send_on_socket"}));
  EXPECT_EQ(be_.calls, (Calls{"receive_ram_socket", "check_resumable", "resume"}));
  EXPECT_TRUE(vm::is_committed(run_, "vm"));
  EXPECT_FALSE(path_exists(vm::ram_socket(run_, "vm")));
}

TEST_F(Phases, resume_commits_so_that_no_rollback_touches_the_images_until_released) {
  prepare_ok();
  Buffer out;
  resume_destination(options<DestOptions>(), out.fd());
  EXPECT_NE(out.text().find("\"phase\":\"resume\",\"ok\":true,\"resumed_at\":\"1001.250000\""),
            std::string::npos)
      << out.text();
  EXPECT_FALSE(path_exists(state_file()));
  expect_throw<IndeterminateError>([&] { rollback_destination(options<DestOptions>()); });
  EXPECT_EQ(be_.calls, (Calls{"check_resumable", "resume"}));
  EXPECT_TRUE(path_exists(image_));
  resume_destination(options<DestOptions>(), out.fd());
  EXPECT_EQ(be_.calls, (Calls{"check_resumable", "resume"})) << "committed once only";
  release_destination(options<DestOptions>());
  rollback_destination(options<DestOptions>());
  EXPECT_TRUE(path_exists(image_));
}

TEST_F(Phases, a_vm_not_ready_to_run_is_not_committed_and_rolls_back) {
  prepare_ok();
  be_.fail_at = "check_resumable";
  Buffer out;
  expect_throw<Error>([&] { resume_destination(options<DestOptions>(), out.fd()); });
  EXPECT_FALSE(vm::is_committed(run_, "vm"));
  EXPECT_TRUE(path_exists(state_file()));
  EXPECT_EQ(out.text(), "");
  be_.fail_at.clear();
  rollback_destination(options<DestOptions>());
  EXPECT_EQ(be_.calls, (Calls{"check_resumable", "rollback_destination"}));
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
  mirrored();
  rollback_source(options<SourceRollbackOptions>());
  EXPECT_EQ(be_.calls, Calls{"rollback_source(recorded)"});
  EXPECT_FALSE(vm::load_source_state(run_, "vm"));
}

TEST_F(Phases, after_go_the_source_resumes_only_on_the_destinations_not_committed) {
  mirrored(true);
  expect_throw<IndeterminateError>([&] { rollback_source(options<SourceRollbackOptions>()); });
  EXPECT_EQ(be_.calls, Calls{});
  EXPECT_TRUE(go_recorded());
  auto o = options<SourceRollbackOptions>();
  o.not_committed = true;
  rollback_source(o);
  EXPECT_EQ(be_.calls, Calls{"rollback_source(recorded)"});
  EXPECT_FALSE(vm::load_source_state(run_, "vm"));
}

TEST_F(Phases, a_failed_quit_keeps_the_source_record) {
  mirrored(true);
  be_.fail_at = "quit_source";
  expect_throw<Error>([&] { quit_source(options<SourceOptions>()); });
  EXPECT_TRUE(vm::load_source_state(run_, "vm"));
}

TEST_F(Phases, describe_starts_the_migration_record_and_refuses_a_second_one) {
  Buffer out;
  describe(options<DescribeOptions>(), out.fd());
  EXPECT_TRUE(vm::load_source_state(run_, "vm"));
  auto what = expect_throw<Error>([&] { describe(options<DescribeOptions>(), out.fd()); });
  EXPECT_NE(what.find("lsm-migrate.sh --recover vm"), std::string::npos) << what;
  // The description comes first, so that an unknown VM or a bad option is
  // reported as such; the refusal follows before anything is written.
  EXPECT_EQ(be_.calls, (Calls{"describe", "describe"}));
}

TEST_F(Phases, describe_dry_run_starts_no_record) {
  auto o = options<DescribeOptions>();
  o.dry_run = true;
  Buffer out;
  describe(o, out.fd());
  EXPECT_FALSE(vm::load_source_state(run_, "vm"));
}

TEST_F(Phases, a_host_holding_an_unsettled_commit_takes_no_new_migration_of_that_vm) {
  vm::mark_committed(run_, "vm");
  Buffer in(vm_message()), out;
  auto what = expect_throw<Error>([&] { prepare(prepare_options(), in.fd(), out.fd()); });
  EXPECT_NE(what.find("not settled"), std::string::npos) << what;
  expect_throw<Error>([&] { describe(options<DescribeOptions>(), out.fd()); });
  EXPECT_EQ(be_.calls, Calls{});
  release_destination(options<DestOptions>());
  EXPECT_FALSE(vm::is_committed(run_, "vm"));
}

TEST_F(Phases, mirror_refuses_exports_that_differ_from_the_vms_disks) {
  vm::SourceState s;
  s.disks = {"da", "db"};
  vm::save_source_state(run_, "vm", s);
  Buffer in;
  proto::write_exports(in.fd(), {"/x.nbd", {{"da", "lsm-0", "/x.nbd"}}, {}});
  ::lseek(in.fd(), 0, SEEK_SET);
  auto what = expect_throw<Error>([&] { mirror_disks(options<MirrorOptions>(), in.fd()); });
  EXPECT_NE(what.find("exports disks da but 'vm' has disks da, db"), std::string::npos) << what;
  EXPECT_EQ(be_.calls, Calls{});
}

TEST_F(Phases, mirror_with_nothing_exported_records_the_source_and_mirrors_nothing) {
  vm::save_source_state(run_, "vm", {});
  Buffer in;
  proto::write_exports(in.fd(), {"", {}, {}});
  ::lseek(in.fd(), 0, SEEK_SET);
  mirror_disks(options<MirrorOptions>(), in.fd());
  EXPECT_EQ(be_.calls, Calls{"device_model"});
  auto state = vm::load_source_state(run_, "vm");
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->mirrored);
  EXPECT_TRUE(state->mirrors.empty());
}

}  // namespace
}  // namespace lsm::phases

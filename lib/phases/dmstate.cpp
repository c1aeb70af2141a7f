#include "phases/dmstate.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "core/log.hpp"
#include "phases/dest_images.hpp"
#include "phases/rollback.hpp"
#include "phases/xen.hpp"
#include "proto/message.hpp"
#include "qemu/cmdline.hpp"
#include "qemu/inventory.hpp"
#include "qemu/launch.hpp"
#include "qemu/migration.hpp"
#include "qmp/client.hpp"
#include "vm/dest_state.hpp"
#include "vm/names.hpp"
#include "vm/path_map.hpp"

namespace lsm::phases {

namespace {

qmp::Client connect_source(const std::string& run_dir, const std::string& name) {
  std::string sock = vm::qmp_socket(run_dir, name);
  struct stat st;
  if (::stat(sock.c_str(), &st) < 0)
    throw UsageError("unknown domain '" + name + "': no QMP socket " + sock +
                     " (start QEMU with -name " + name + " -qmp unix:" + sock +
                     ",server=on,wait=off)");
  return qmp::Client::connect(sock);
}

}  // namespace

void describe(const DescribeOptions& o, int out_fd) {
  vm::validate_name(o.name);
  if (o.backend == "xen") return xen::describe(o, out_fd);
  std::string run = vm::run_dir(o.run_dir);
  qmp::Client qmp = connect_source(run, o.name);
  auto disks = qemu::list_disks(qmp, o.shared_disks);
  auto jobs = qmp.execute("query-block-jobs");
  if (jobs.Size() > 0)
    throw Error("domain '" + o.name + "' already has a block job (" +
                json::string_at(jobs[0], "device", "query-block-jobs[0]") +
                "); wait for it or cancel it first");
  auto status = qmp.execute("query-status");
  bool running = json::bool_at(status, "running", "query-status");
  auto argv = qemu::read_cmdline(qmp.peer_pid());

  proto::Message m = proto::make_message("vm");
  auto& a = m.doc.GetAllocator();
  json::add(m.doc, "name", o.name, a);
  json::add(m.doc, "backend", "qemu", a);
  json::Value config(rapidjson::kObjectType);
  json::Value args(rapidjson::kArrayType);
  for (const auto& s : argv) args.PushBack(json::str(s, a), a);
  json::add(config, "argv", std::move(args), a);
  json::add(config, "qmp", vm::qmp_socket(run, o.name), a);
  json::add(config, "running", running, a);
  json::add(config, "qemu_version", qmp.qemu_version(), a);
  json::add(m.doc, "config", std::move(config), a);
  json::Value jd(rapidjson::kArrayType);
  for (const auto& d : disks) jd.PushBack(vm::to_json(d, a), a);
  json::add(m.doc, "disks", std::move(jd), a);
  proto::write_message(out_fd, m, "stdout");
  log::info("described " + o.name + ": " + std::to_string(disks.size()) + " disk(s)");
}

void prepare(const PrepareOptions& o, int in_fd, int out_fd) {
  FdReader in(in_fd, "stdin");
  proto::MessageReader reader(in);
  proto::Message m = reader.read("vm");
  std::string name = json::string_at(m.doc, "name", "vm");
  vm::validate_name(name);
  std::string backend = json::string_at(m.doc, "backend", "vm");
  if (backend == "xen") return xen::prepare(o, m, out_fd);
  if (backend != "qemu") throw Error("unknown backend '" + backend + "' in the vm message");
  const auto& config = json::object_at(m.doc, "config", "vm");
  vm::PathMap map(o.maps);
  std::string run = vm::run_dir(o.run_dir);
  std::string qmp_path = vm::qmp_socket(run, name);
  if (!o.dry_run) vm::qemu_dir(run);
  if (path_exists(qmp_path)) {
    bool alive = false;
    try {
      qmp::Client::connect(qmp_path, std::chrono::milliseconds(2000));
      alive = true;
    } catch (const Error&) {
      // A stale socket from a dead QEMU: launch() replaces it.
    }
    if (alive)
      throw Error("domain '" + name + "' already runs on the destination (" + qmp_path +
                  " answers)");
  }

  vm::DestState state;
  state.name = name;
  state.qmp = qmp_path;
  state.was_running = json::bool_at(config, "running", "vm.config");
  TargetPlan plan = plan_targets(json::array_at(m.doc, "disks", "vm"), map, o.reuse);
  state.disks = plan.disks;

  std::vector<std::string> argv;
  for (const auto& s : json::array_at(config, "argv", "vm.config").GetArray()) {
    if (!s.IsString()) throw proto::ProtocolError("vm.config.argv: not all strings");
    argv.emplace_back(s.GetString());
  }
  if (argv.empty()) throw proto::ProtocolError("vm.config.argv is empty");
  argv = qemu::destination_argv(argv, json::string_at(config, "qmp", "vm.config"),
                                qmp_path, map);

  if (o.dry_run) {
    std::string text = "plan for " + name + ":\n" + describe_targets(plan) + "  destination QEMU:";
    for (const auto& s : argv) text += " " + s;
    write_all(out_fd, text + "\n", "stdout");
    return;
  }

  std::string state_path = vm::state_file(run, name);
  if (path_exists(state_path))
    throw Error("an earlier migration of '" + name + "' left " + state_path +
                "; clean up with: lsm-resume receive " + name + " --rollback");
  save(state, state_path);
  try {
    create_images(plan, state, state_path);
    state.qemu_pid = qemu::launch(argv, qmp_path, vm::qemu_log(run, name));
    save(state, state_path);
    qmp::Client qmp = qmp::Client::connect(qmp_path);
    qemu::enable_capabilities(qmp, {"late-block-activate", "events"});
  } catch (...) {
    rollback_destination(run, name);
    throw;
  }

  write_prepared(out_fd, name, qmp_path, state.created);
  log::info("prepared " + name + ": QEMU pid " + std::to_string(state.qemu_pid));
}

}  // namespace lsm::phases

#include "phases/dmstate.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/subprocess.hpp"
#include "phases/rollback.hpp"
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

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Destination images need the same virtual size and format; --reuse of an
// existing file is only safe when it matches.
void check_reusable(const vm::Disk& d, const std::string& target) {
  auto info = json::parse(
      run_capture({"qemu-img", "info", "-U", "--output=json", target}), target);
  std::string fmt = json::string_at(info, "format", target);
  std::uint64_t size = json::u64_at(info, "virtual-size", target);
  if (fmt != d.format || size != d.virtual_size)
    throw Error("--reuse " + target + ": it is " + fmt + " of " +
                std::to_string(size) + " bytes, the source disk is " + d.format +
                " of " + std::to_string(d.virtual_size) + " bytes");
}

// Free space per filesystem, for every disk that lands on it together.
void check_space(const std::vector<std::pair<vm::Disk, std::string>>& targets) {
  std::map<dev_t, std::pair<std::string, std::uint64_t>> need;
  for (const auto& [disk, target] : targets) {
    std::string dir = parent_dir(target);
    struct stat st;
    if (::stat(dir.c_str(), &st) < 0)
      throw Error("disk " + disk.key + ": target directory " + dir +
                  " does not exist on the destination (create it, or use --map)");
    auto& n = need[st.st_dev];
    n.first = dir;
    n.second += disk.allocated;
  }
  for (const auto& [dev, n] : need) {
    struct statvfs vfs;
    if (::statvfs(n.first.c_str(), &vfs) < 0) throw SystemError("statvfs " + n.first, errno);
    std::uint64_t avail = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    if (avail < n.second)
      throw Error("not enough space in " + n.first + ": the disks need " +
                  format_bytes(n.second) + ", " + format_bytes(avail) + " free");
  }
}

}  // namespace

void describe(const DescribeOptions& o, int out_fd) {
  vm::validate_name(o.name);
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
  if (backend != "qemu")
    throw Error("backend " + backend + " is not available on this host");
  const auto& config = json::object_at(m.doc, "config", "vm");
  vm::PathMap map(o.maps);
  std::string run = vm::run_dir(o.run_dir);
  std::string qmp_path = vm::qmp_socket(run, name);
  if (!o.dry_run) vm::qemu_dir(run);
  if (exists(qmp_path)) {
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
  std::vector<std::pair<vm::Disk, std::string>> to_create;
  for (auto d : vm::disks_from_json(json::array_at(m.doc, "disks", "vm"), "vm.disks")) {
    std::string target = map.map_path(d.file);
    if (d.shared) {
      if (!exists(target))
        throw Error("shared disk " + d.key + ": " + target +
                    " is not visible on the destination");
    } else if (exists(target)) {
      if (!o.reuse)
        throw Error("disk " + d.key + ": target file " + target +
                    " already exists on the destination; remove it or pass --reuse");
      check_reusable(d, target);
    } else {
      to_create.emplace_back(d, target);
    }
    d.file = target;
    state.disks.push_back(d);
  }
  check_space(to_create);

  std::vector<std::string> argv;
  for (const auto& s : json::array_at(config, "argv", "vm.config").GetArray()) {
    if (!s.IsString()) throw proto::ProtocolError("vm.config.argv: not all strings");
    argv.emplace_back(s.GetString());
  }
  if (argv.empty()) throw proto::ProtocolError("vm.config.argv is empty");
  argv = qemu::destination_argv(argv, json::string_at(config, "qmp", "vm.config"),
                                qmp_path, map);

  if (o.dry_run) {
    std::string plan = "plan for " + name + ":\n";
    for (const auto& d : state.disks) {
      bool create = false;
      for (const auto& [c, t] : to_create) create = create || t == d.file;
      plan += "  disk " + d.key + ": " + d.format + ", " + format_bytes(d.virtual_size) +
              " virtual, " + format_bytes(d.allocated) + " allocated -> " + d.file +
              (d.shared ? " (shared, not copied)" : create ? " (will be created)" : " (reused)") +
              "\n";
    }
    plan += "  destination QEMU:";
    for (const auto& s : argv) plan += " " + s;
    write_all(out_fd, plan + "\n", "stdout");
    return;
  }

  std::string state_path = vm::state_file(run, name);
  if (exists(state_path))
    throw Error("an earlier migration of '" + name + "' left " + state_path +
                "; clean up with: lsm-resume dst " + name + " --rollback");
  save(state, state_path);
  try {
    for (const auto& [d, target] : to_create) {
      run_capture({"qemu-img", "create", "-q", "-f", d.format, "-o", "preallocation=off",
                   target, std::to_string(d.virtual_size)});
      state.created.push_back(target);
      save(state, state_path);
      if (::chmod(target.c_str(), 0600) < 0) throw SystemError("chmod " + target, errno);
    }
    state.qemu_pid = qemu::launch(argv, qmp_path, vm::qemu_log(run, name));
    save(state, state_path);
    qmp::Client qmp = qmp::Client::connect(qmp_path);
    qemu::enable_capabilities(qmp, {"late-block-activate", "events"});
  } catch (...) {
    rollback_destination(run, name);
    throw;
  }

  proto::Message out = proto::make_message("prepared");
  auto& a = out.doc.GetAllocator();
  json::add(out.doc, "name", name, a);
  json::add(out.doc, "qmp", qmp_path, a);
  json::Value created(rapidjson::kArrayType);
  for (const auto& c : state.created) created.PushBack(json::str(c, a), a);
  json::add(out.doc, "created", std::move(created), a);
  proto::write_message(out_fd, out, "stdout");
  log::info("prepared " + name + ": QEMU pid " + std::to_string(state.qemu_pid));
}

}  // namespace lsm::phases

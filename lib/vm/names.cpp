#include "vm/names.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "core/private_dir.hpp"

namespace lsm::vm {

void validate_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-')
    throw UsageError("invalid domain name '" + name +
                     "': use 1-64 characters, not starting with '.' or '-'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok)
      throw UsageError("invalid domain name '" + name +
                       "': only letters, digits, '-', '_' and '.' are allowed");
  }
}

std::string run_dir(const std::string& option) {
  if (!option.empty()) return option;
  const char* env = std::getenv("LSM_RUN_DIR");
  return env && *env ? env : "/run/lsm";
}

std::string qmp_socket(const std::string& run_dir, const std::string& name) {
  return run_dir + "/qemu/" + name + ".qmp";
}

namespace {

std::string private_dir(const std::string& run_dir, const char* sub) {
  std::string dir = run_dir + "/" + sub;
  for (const auto& d : {run_dir, dir}) ensure_private_dir(d);
  return dir;
}

}  // namespace

std::string lsm_dir(const std::string& run_dir) { return private_dir(run_dir, "lsm"); }
std::string qemu_dir(const std::string& run_dir) { return private_dir(run_dir, "qemu"); }

std::string state_file(const std::string& run_dir, const std::string& name) {
  return lsm_dir(run_dir) + "/" + name + ".state.json";
}

std::string commit_marker(const std::string& run_dir, const std::string& name) {
  return lsm_dir(run_dir) + "/" + name + ".committed";
}

std::string nbd_socket(const std::string& run_dir, const std::string& name) {
  return lsm_dir(run_dir) + "/" + name + ".nbd";
}

std::string ram_socket(const std::string& run_dir, const std::string& name) {
  return lsm_dir(run_dir) + "/" + name + ".ram";
}

std::string qemu_log(const std::string& run_dir, const std::string& name) {
  return lsm_dir(run_dir) + "/" + name + ".qemu.log";
}

std::string qemu_nbd_log(const std::string& run_dir, const std::string& name) {
  return lsm_dir(run_dir) + "/" + name + ".qemu-nbd.log";
}

}  // namespace lsm::vm

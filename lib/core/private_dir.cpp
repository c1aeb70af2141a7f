#include "core/private_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "core/error.hpp"

namespace lsm {

namespace {

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

[[noreturn]] void refuse(const std::string& dir, const std::string& why, const std::string& fix) {
  throw Error("run directory " + dir + " " + why + ", so others could plant files lsm trusts; " +
              fix + ", or use another --run-dir");
}

}  // namespace

void ensure_private_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0) return;
  if (errno != EEXIST) throw SystemError("creating " + dir, errno);
  struct stat st;
  if (::lstat(dir.c_str(), &st) < 0) throw SystemError("checking " + dir, errno);
  if (S_ISLNK(st.st_mode)) refuse(dir, "is a symbolic link", "replace it with a directory");
  if (!S_ISDIR(st.st_mode)) throw Error("run directory " + dir + " exists but is not a directory");
  uid_t me = ::geteuid();
  if (st.st_uid != me)
    refuse(dir, "belongs to uid " + std::to_string(st.st_uid) + ", not us",
           "run: chown " + std::to_string(me) + " " + dir);
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    refuse(dir, "is writable by group or others (mode " + octal(st.st_mode) + ")",
           "run: chmod go-w " + dir);
}

}  // namespace lsm

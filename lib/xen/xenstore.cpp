#include "xen/xenstore.hpp"

#include <cerrno>
#include <cstdlib>

extern "C" {
#include <xenstore.h>
}

#include "core/error.hpp"

namespace lsm::xen {

Xenstore::Xenstore() : h_(xs_open(0)) {
  if (!h_) throw SystemError("connecting to xenstore", errno);
}

void Xenstore::Close::operator()(xs_handle* h) const { xs_close(h); }

std::optional<std::string> Xenstore::read(const std::string& path) {
  unsigned int len = 0;
  void* v = xs_read(h_.get(), XBT_NULL, path.c_str(), &len);
  if (!v) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError("reading xenstore " + path, errno);
  }
  std::string s(static_cast<char*>(v), len);
  std::free(v);
  return s;
}

void Xenstore::write(const std::string& path, const std::string& value) {
  if (!xs_write(h_.get(), XBT_NULL, path.c_str(), value.data(), value.size()))
    throw SystemError("writing xenstore " + path, errno);
}

void Xenstore::remove(const std::string& path) {
  if (!xs_rm(h_.get(), XBT_NULL, path.c_str()) && errno != ENOENT)
    throw SystemError("removing xenstore " + path, errno);
}

std::vector<std::string> Xenstore::directory(const std::string& path) {
  unsigned int n = 0;
  char** names = xs_directory(h_.get(), XBT_NULL, path.c_str(), &n);
  if (!names) {
    if (errno == ENOENT) return {};
    throw SystemError("listing xenstore " + path, errno);
  }
  std::vector<std::string> out(names, names + n);
  std::free(names);
  return out;
}

std::vector<std::pair<std::string, std::string>> Xenstore::subtree(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> todo{""};
  while (!todo.empty()) {
    std::string rel = todo.back();
    todo.pop_back();
    std::string path = rel.empty() ? root : root + "/" + rel;
    if (!rel.empty())
      if (auto v = read(path); v && !v->empty()) out.emplace_back(rel, *v);
    auto children = directory(path);
    for (auto it = children.rbegin(); it != children.rend(); ++it)
      todo.push_back(rel.empty() ? *it : rel + "/" + *it);
  }
  return out;
}

}  // namespace lsm::xen

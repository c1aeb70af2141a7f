// A xenstore connection: what libxl keeps private but a migration needs
// (the guest's suspend control node, the device model's physmap entries).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct xs_handle;

namespace lsm::xen {

class Xenstore {
 public:
  Xenstore();

  std::optional<std::string> read(const std::string& path);
  void write(const std::string& path, const std::string& value);
  void remove(const std::string& path);
  std::vector<std::string> directory(const std::string& path);

  // Every node with a value under root, as (path relative to root, value),
  // parents before children.
  std::vector<std::pair<std::string, std::string>> subtree(const std::string& root);

 private:
  struct Close {
    void operator()(xs_handle* h) const;
  };
  std::unique_ptr<xs_handle, Close> h_;
};

}  // namespace lsm::xen

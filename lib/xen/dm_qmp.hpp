// The device model's QMP socket is libxl's (/var/run/xen/qmp-libxl-DOMID)
// and QEMU serves one client at a time, so every use takes libxl's own
// lock first, exactly as libxl does, and stays short: libxl waits for us
// without a timeout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/unique_fd.hpp"
#include "qmp/client.hpp"

namespace lsm::xen {

class DeviceModelQmp {
 public:
  DeviceModelQmp(std::uint32_t domid, const std::string& uuid);
  ~DeviceModelQmp();
  DeviceModelQmp(const DeviceModelQmp&) = delete;
  DeviceModelQmp& operator=(const DeviceModelQmp&) = delete;

  qmp::Client& client() { return *client_; }

 private:
  std::string lock_path_;
  UniqueFd lock_;
  std::optional<qmp::Client> client_;
};

std::string qmp_socket_path(std::uint32_t domid);

}  // namespace lsm::xen

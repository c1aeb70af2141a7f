#include "xen/stream_check.hpp"

#include "core/fd_io.hpp"
#include "json/json.hpp"
#include "xen/libxl_stream.hpp"

namespace lsm::xen {

void check_stream(int in_fd, int out_fd) {
  FdReader in(in_fd, "stdin");
  std::uint64_t bytes = 0;
  auto s = with_context("libxl stream on stdin", [&] {
    return relay_libxl_stream(
        in, [&](std::string_view b) { bytes += b.size(); }, [] {});
  });
  json::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  json::add(d, "bytes", bytes, a);
  json::add(d, "libxc_version", static_cast<std::uint64_t>(s.libxc.version), a);
  json::add(d, "domain_type", static_cast<std::uint64_t>(s.libxc.domain_type), a);
  json::add(d, "xen", std::to_string(s.libxc.xen_major) + "." + std::to_string(s.libxc.xen_minor), a);
  json::add(d, "libxc_records", s.libxc.records, a);
  json::add(d, "page_records", s.libxc.page_records, a);
  json::add(d, "xenstore_keys", static_cast<std::uint64_t>(s.xenstore.size()), a);
  json::add(d, "emulator_context_bytes", s.emulator_context_bytes, a);
  write_all(out_fd, json::to_string(d) + "\n", "stdout");
}

}  // namespace lsm::xen

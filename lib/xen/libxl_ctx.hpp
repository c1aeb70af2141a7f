// One libxl context (and libxenctrl handle) per tool run, with libxl's own
// log lines going to stderr beside ours.
#pragma once

#include <cstdint>
#include <string>

extern "C" {
#include <libxl.h>
#include <libxl_utils.h>
}

// xenctrl.h itself needs GNU C++ (see the Makefile): only lib/xen/*.cpp
// include it.
typedef struct xc_interface_core xc_interface;

namespace lsm::xen {

class Libxl {
 public:
  Libxl();
  ~Libxl();
  Libxl(const Libxl&) = delete;
  Libxl& operator=(const Libxl&) = delete;

  libxl_ctx* ctx() const { return ctx_; }
  xc_interface* xc();

 private:
  xentoollog_logger_stdiostream* logger_ = nullptr;
  libxl_ctx* ctx_ = nullptr;
  xc_interface* xc_ = nullptr;
};

// Throws Error("what: libxl error RC") unless rc is 0.
void check(int rc, const std::string& what);

}  // namespace lsm::xen

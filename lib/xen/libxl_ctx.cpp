#include "xen/libxl_ctx.hpp"

extern "C" {
#include <xenctrl.h>
}
#include <string>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/util.hpp"

namespace lsm::xen {

Libxl::Libxl() {
  if (!is_xen_dom0())
    throw Error("this host is not a Xen dom0 (/proc/xen/capabilities lacks control_d); "
                "for plain QEMU VMs use --backend qemu");
  // libxl reports details (which xenstore path, which hypercall) itself;
  // at our default verbosity only its errors.
  xentoollog_level level = log::verbosity() >= 2   ? XTL_DEBUG
                           : log::verbosity() == 1 ? XTL_INFO
                                                   : XTL_ERROR;
  logger_ = xtl_createlogger_stdiostream(stderr, level, XTL_STDIOSTREAM_HIDE_PROGRESS);
  if (!logger_) throw Error("cannot create the libxl logger");
  if (libxl_ctx_alloc(&ctx_, LIBXL_VERSION, 0, reinterpret_cast<xentoollog_logger*>(logger_))) {
    xtl_logger_destroy(reinterpret_cast<xentoollog_logger*>(logger_));
    throw Error("cannot open the Xen toolstack (libxl_ctx_alloc failed): run as root in dom0");
  }
}

Libxl::~Libxl() {
  if (xc_) xc_interface_close(xc_);
  libxl_ctx_free(ctx_);
  xtl_logger_destroy(reinterpret_cast<xentoollog_logger*>(logger_));
}

xc_interface* Libxl::xc() {
  if (!xc_) {
    xc_ = xc_interface_open(reinterpret_cast<xentoollog_logger*>(logger_),
                            reinterpret_cast<xentoollog_logger*>(logger_), 0);
    if (!xc_) throw Error("cannot open libxenctrl (xc_interface_open failed)");
  }
  return xc_;
}

void check(int rc, const std::string& what) {
  if (rc) throw Error(what + ": libxl error " + std::to_string(rc));
}

}  // namespace lsm::xen

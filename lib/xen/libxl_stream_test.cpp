// The libxl v2 stream writer and relay against the format specs
// (libxl-migration-stream.pandoc, libxc-migration-stream.pandoc).
#include "xen/libxl_stream.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "core/unique_fd.hpp"
#include "testing/expect_throw.hpp"
#include "xen/byte_order.hpp"

namespace lsm::xen {
namespace {

// A minimal libxc stream as xc_domain_save lays it out: image header,
// domain header (x86 PV, Xen 4.17), X86_PV_INFO, one PAGE_DATA, END.
std::string libxc_stream() {
  std::string s;
  put_be(s, kLibxcMarker, 8);
  put_be(s, kLibxcId, 4);
  put_be(s, 3, 4);  // version
  put_be(s, 0, 2);  // options: little-endian
  put_be(s, 0, 6);
  put_le(s, 1, 4);   // x86 PV
  put_le(s, 12, 2);  // page shift
  put_le(s, 0, 2);
  put_le(s, 4, 4);
  put_le(s, 17, 4);
  put_le(s, 2, 4);  // X86_PV_INFO
  put_le(s, 8, 4);
  put_le(s, 8, 1);
  put_le(s, 4, 1);
  put_le(s, 0, 6);
  put_le(s, 1, 4);  // PAGE_DATA: count 1, pfn 5, one page
  put_le(s, 16 + 4096, 4);
  put_le(s, 1, 4);
  put_le(s, 0, 4);
  put_le(s, 5, 8);
  s += std::string(4096, '\x5a');
  put_le(s, 0, 8);  // END
  return s;
}

std::string libxl_stream(const std::string& libxc = libxc_stream()) {
  std::string out;
  LibxlStreamWriter w([&](std::string_view b) { out += b; });
  w.header();
  w.libxc_context();
  out += libxc;
  w.emulator_xenstore_data(kEmulatorQemuUpstream, 0,
                           {{"physmap/1/start_addr", "f0000000"}, {"physmap/1/name", "vga.vram"}});
  w.emulator_context(kEmulatorQemuUpstream, 0, "QEVM device state");
  w.end();
  return out;
}

struct Relayed {
  std::string out;
  LibxlStreamSummary summary;
  std::size_t out_size_at_hook = 0;
  int hook_calls = 0;
};

Relayed relay(const std::string& in) {
  int p[2];
  EXPECT_EQ(::pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  std::thread t([&] {
    try {
      write_all(w.get(), in, "pipe");
    } catch (const Error&) {
      // The relay stopped reading early, as it should on bad input.
    }
    w.reset();
  });
  FdReader reader(r.get(), "pipe");
  Relayed res;
  try {
    res.summary = relay_libxl_stream(
        reader, [&](std::string_view b) { res.out += b; },
        [&] {
          res.out_size_at_hook = res.out.size();
          ++res.hook_calls;
        });
  } catch (...) {
    r.reset();
    t.join();
    throw;
  }
  t.join();
  return res;
}

std::string relay_error(const std::string& in) {
  return lsm::testing::expect_throw<Error>([&] { relay(in); });
}

TEST(LibxlStream, header_is_big_endian_LibxlFmt_version_2) {
  std::string s = libxl_stream();
  EXPECT_EQ(s.substr(0, 8), "LibxlFmt");
  EXPECT_EQ(get_be(s, 8, 4), 2u);
  EXPECT_EQ(get_be(s, 12, 4), 0u);
}

TEST(LibxlStream, records_are_padded_to_8_octets) {
  std::string out;
  LibxlStreamWriter w([&](std::string_view b) { out += b; });
  w.emulator_context(kEmulatorQemuUpstream, 0, "abc");
  EXPECT_EQ(out.size(), 8u + 16u);
  EXPECT_EQ(get_le(out, 0, 4), 3u);
  EXPECT_EQ(get_le(out, 4, 4), 11u);
  EXPECT_EQ(out.substr(19), std::string(5, '\0'));
}

TEST(LibxlStream, relay_passes_every_byte_and_understands_the_records) {
  std::string in = libxl_stream();
  Relayed r = relay(in);
  EXPECT_EQ(r.out, in);
  EXPECT_EQ(r.summary.libxc.version, 3u);
  EXPECT_EQ(r.summary.libxc.domain_type, 1u);
  EXPECT_EQ(r.summary.libxc.xen_major, 4u);
  EXPECT_EQ(r.summary.libxc.xen_minor, 17u);
  EXPECT_EQ(r.summary.libxc.page_records, 1u);
  ASSERT_EQ(r.summary.xenstore.size(), 2u);
  EXPECT_EQ(r.summary.xenstore[1].first, "physmap/1/name");
  EXPECT_EQ(r.summary.xenstore[1].second, "vga.vram");
  EXPECT_EQ(r.summary.emulator_context_bytes, 17u);
}

TEST(LibxlStream, hook_runs_once_before_the_end_record_is_passed_on) {
  std::string in = libxl_stream();
  Relayed r = relay(in);
  EXPECT_EQ(r.hook_calls, 1);
  EXPECT_EQ(r.out_size_at_hook, in.size() - 8);
}

TEST(LibxlStream, truncation_anywhere_is_an_error) {
  std::string in = libxl_stream();
  for (std::size_t cut : {std::size_t(0), std::size_t(10), std::size_t(20), std::size_t(30),
                          std::size_t(60), std::size_t(200), in.size() - 40, in.size() - 1}) {
    auto e = relay_error(in.substr(0, cut));
    EXPECT_NE(e.find("ended"), std::string::npos) << "cut at " << cut << ": " << e;
  }
}

TEST(LibxlStream, wrong_ident_version_or_endianness_is_refused) {
  std::string in = libxl_stream();
  std::string bad = in;
  bad[0] = 'X';
  EXPECT_NE(relay_error(bad).find("not a libxl stream"), std::string::npos);
  bad = in;
  bad[11] = 3;
  EXPECT_NE(relay_error(bad).find("version 3 is not supported"), std::string::npos);
  bad = in;
  bad[15] = 1;
  EXPECT_NE(relay_error(bad).find("big-endian"), std::string::npos);
}

TEST(LibxlStream, garbage_inside_libxc_context_is_refused) {
  std::string libxc = libxc_stream();
  libxc[3] = 0;
  EXPECT_NE(relay_error(libxl_stream(libxc)).find("not a libxc stream"), std::string::npos);
}

TEST(LibxlStream, unknown_mandatory_record_is_refused_optional_passes) {
  auto with_record = [](std::uint32_t type) {
    std::string in = libxl_stream();
    std::string rec;
    put_le(rec, type, 4);
    put_le(rec, 3, 4);
    rec += std::string("xyz\0\0\0\0\0", 8);
    return in.insert(in.size() - 8, rec);
  };
  EXPECT_NE(relay_error(with_record(0x10)).find("unknown mandatory libxl record type 16"),
            std::string::npos);
  std::string in = with_record(0x80000001u);
  EXPECT_EQ(relay(in).out, in);
}

TEST(LibxlStream, end_without_libxc_context_is_refused) {
  std::string out;
  LibxlStreamWriter w([&](std::string_view b) { out += b; });
  w.header();
  w.end();
  EXPECT_NE(relay_error(out).find("without a LIBXC_CONTEXT"), std::string::npos);
}

TEST(LibxlStream, checkpointed_streams_are_refused) {
  std::string in = libxl_stream();
  std::string rec;
  put_le(rec, 4, 4);
  put_le(rec, 0, 4);
  EXPECT_NE(relay_error(in.insert(in.size() - 8, rec)).find("checkpointed"), std::string::npos);
}

}  // namespace
}  // namespace lsm::xen

#include "proto/frame.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "core/unique_fd.hpp"
#include "testing/expect_throw.hpp"

namespace lsm::proto {
namespace {

// Writes `bytes` into a pipe from a thread and reads frames back.
class Frames : public ::testing::Test {
 protected:
  std::string read_all(const std::string& bytes) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    UniqueFd r(p[0]), w(p[1]);
    std::thread t([&] {
      write_all(w.get(), bytes, "pipe");
      w.reset();
    });
    FdReader in(r.get(), "pipe");
    FrameReader frames(in, "RAM stream");
    std::string out;
    try {
      while (auto d = frames.next()) out += *d;
    } catch (...) {
      t.join();
      throw;
    }
    t.join();
    return out;
  }

  std::string encoded(const std::string& payload) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    UniqueFd r(p[0]), w(p[1]);
    std::string out;
    std::thread t([&] {
      FdReader in(r.get(), "pipe");
      for (std::string s; !(s = in.read_some(1 << 20, Deadline::never())).empty();)
        out += s;
    });
    FrameWriter fw(w.get(), "pipe");
    fw.data(payload);
    fw.end();
    w.reset();
    t.join();
    return out;
  }

  std::string error_of(const std::string& bytes) {
    return lsm::testing::expect_throw<ProtocolError>([&] { read_all(bytes); });
  }
};

TEST_F(Frames, round_trip_keeps_every_byte) {
  std::string payload(kMaxFrame * 2 + 12345, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31);
  EXPECT_EQ(read_all(encoded(payload)), payload);
}

TEST_F(Frames, empty_stream_is_just_an_end_frame) {
  EXPECT_EQ(encoded("").size(), 16u);
  EXPECT_EQ(read_all(encoded("")), "");
}

TEST_F(Frames, truncation_anywhere_is_detected) {
  std::string full = encoded(std::string(100000, 'r'));
  for (std::size_t cut : {std::size_t(0), std::size_t(7), std::size_t(16),
                          std::size_t(5000), full.size() - 16, full.size() - 1}) {
    auto e = error_of(full.substr(0, cut));
    EXPECT_NE(e.find("truncated"), std::string::npos) << "cut at " << cut;
  }
}

TEST_F(Frames, garbage_header_is_detected) {
  auto e = error_of("this is not a frame header at all");
  EXPECT_NE(e.find("garbage"), std::string::npos);
}

TEST_F(Frames, end_frame_with_wrong_total_is_detected) {
  std::string s = encoded("abc");
  s[s.size() - 1] = 4;  // END claims 4 bytes
  auto e = error_of(s);
  EXPECT_NE(e.find("end frame says 4 bytes but 3 arrived"), std::string::npos);
}

TEST_F(Frames, oversized_frame_length_is_refused) {
  std::string h("LSMF\0\0\0\1\xff\0\0\0\0\0\0\0", 16);
  auto e = error_of(h);
  EXPECT_NE(e.find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace lsm::proto

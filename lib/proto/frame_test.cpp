#include "proto/frame.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "core/unique_fd.hpp"
#include "testing/drain.hpp"
#include "testing/expect_throw.hpp"

namespace lsm::proto {
namespace {

// Frames written to a pipe and read back.
class Frames : public ::testing::Test {
 protected:
  // f(frames), reading `bytes` that a thread writes into a pipe.
  template <class F>
  std::string reading(const std::string& bytes, F f) {
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
      out = f(frames);
    } catch (...) {
      t.join();
      throw;
    }
    t.join();
    return out;
  }

  // The payloads as next_to writes them to a socket.
  std::string passed_all(const std::string& bytes) {
    return reading(bytes, [](FrameReader& frames) {
      int sv[2];
      EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
      UniqueFd r(sv[0]), w(sv[1]);
      std::string out;
      std::thread t([&] { out = lsm::testing::drain(r.get()); });
      try {
        while (frames.next_to(w.get(), "socket")) {
        }
      } catch (...) {
        w.reset();
        t.join();
        throw;
      }
      w.reset();
      t.join();
      return out;
    });
  }

  std::string read_all(const std::string& bytes) {
    return reading(bytes, [](FrameReader& frames) {
      std::string out;
      while (auto d = frames.next()) out += *d;
      return out;
    });
  }

  std::string encoded(const std::string& payload) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    UniqueFd r(p[0]), w(p[1]);
    std::string out;
    std::thread t([&] { out = lsm::testing::drain(r.get()); });
    FrameWriter fw(w.get(), "pipe");
    if (sparse_)
      fw.sparse(payload);
    else
      fw.data(payload);
    fw.end();
    wire_ = fw.wire_bytes();
    w.reset();
    t.join();
    return out;
  }

  // The payload of a framed stream through FrameStream, n bytes at a time,
  // then its end.
  std::string through_stream(const std::string& bytes, std::size_t n) {
    return reading(bytes, [&](FrameReader& frames) {
      FrameStream stream(frames);
      std::string out;
      while (out.size() + n <= payload_size_) out += stream.read_exact(n, Deadline::never());
      stream.finish(Deadline::never());
      return out;
    });
  }

  bool sparse_ = false;
  std::uint64_t wire_ = 0;
  std::size_t payload_size_ = 0;

  std::string error_of(const std::string& bytes) {
    return lsm::testing::expect_throw<ProtocolError>([&] { read_all(bytes); });
  }
};

TEST_F(Frames, round_trip_keeps_every_byte) {
  std::string payload(kMaxFrame * 2 + 12345, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31);
  EXPECT_EQ(read_all(encoded(payload)), payload);
}

TEST_F(Frames, payloads_passed_on_keep_every_byte_zeros_included) {
  std::string payload(kMaxFrame * 2 + 12345, '\0');
  for (std::size_t i = kMaxFrame; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 31);
  sparse_ = true;
  EXPECT_TRUE(passed_all(encoded(payload)) == payload);
}

TEST_F(Frames, a_stream_cut_inside_a_passed_frame_is_a_protocol_error) {
  std::string bytes = encoded(std::string(100000, 'x'));
  auto e = lsm::testing::expect_throw<ProtocolError>([&] { passed_all(bytes.substr(0, 50000)); });
  EXPECT_EQ(e, "RAM stream: stream truncated inside a frame after 0 bytes");
}

// What a stream socket holds (or will) goes out as one frame without passing
// through the process; the reader finds the same bytes.
TEST_F(Frames, a_spliced_frame_reads_back_as_written) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  UniqueFd from(sv[0]), qemu(sv[1]);
  std::string payload(300000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  std::thread qemu_writes([&] { write_all(qemu.get(), payload, "socket"); });
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd r(p[0]), w(p[1]);
  std::string wire;
  std::thread t([&] { wire = lsm::testing::drain(r.get()); });
  FrameWriter fw(w.get(), "pipe");
  fw.splice_data(from.get(), payload.size());
  fw.end();
  qemu_writes.join();
  EXPECT_EQ(fw.wire_bytes(), payload.size() + 32);
  w.reset();
  t.join();
  EXPECT_TRUE(read_all(wire) == payload);
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

// Pages of zeros between pages of data, at an offset that is no multiple
// of anything, as libxc's stream puts them after a record header.
std::string pages_with_holes() {
  std::string s(40, 'h');
  for (int page = 0; page < 600; ++page)
    s += page % 3 == 0 ? std::string(4096, static_cast<char>(page | 1)) : std::string(4096, '\0');
  return s + "tail";
}

TEST_F(Frames, sparse_sends_runs_of_zeros_as_zero_frames_and_keeps_every_byte) {
  sparse_ = true;
  std::string payload = pages_with_holes();
  std::string wire = encoded(payload);
  EXPECT_EQ(read_all(wire), payload);
  EXPECT_EQ(wire_, wire.size());
  // 200 pages of data go whole; of each of the 200 runs of two zero pages
  // (8 KiB) less than one block and two frame headers are left.
  EXPECT_LT(wire.size(), 200 * (4096 + 512 + 32) + 100u);
  EXPECT_NE(wire.find(std::string("LSMF\0\0\0\3", 8)), std::string::npos);
}

TEST_F(Frames, sparse_of_data_without_zero_blocks_is_plain_data) {
  std::string payload(kMaxFrame + 100, 'd');
  payload.replace(1000, 511, std::string(511, '\0'));  // shorter than a block
  sparse_ = true;
  std::string a = encoded(payload);
  sparse_ = false;
  EXPECT_EQ(a, encoded(payload));
}

TEST_F(Frames, zero_frames_over_the_limit_split_and_count_in_the_end_total) {
  sparse_ = true;
  std::string payload(kMaxFrame * 2 + 4096, '\0');
  std::string wire = encoded(payload);
  EXPECT_EQ(wire.size(), 4 * 16u);  // three ZERO frames and END
  EXPECT_EQ(read_all(wire), payload);
}

TEST_F(Frames, zero_frame_length_is_bounded_like_data) {
  std::string h("LSMF\0\0\0\3\0\0\0\0\1\0\0\1", 16);  // 16 MiB + 1 of zeros
  auto e = error_of(h);
  EXPECT_NE(e.find("frame length 16777217 out of range"), std::string::npos);
}

TEST_F(Frames, a_stream_reads_across_frame_boundaries_and_checks_its_end) {
  sparse_ = true;
  std::string payload = pages_with_holes();
  payload_size_ = payload.size();
  std::string wire = encoded(payload);
  EXPECT_EQ(through_stream(wire, 1), payload);
  EXPECT_EQ(through_stream(wire, 4), payload);  // 40 + 600 * 4096 + 4: a multiple of 4
}

TEST_F(Frames, a_stream_with_bytes_past_what_its_reader_took_is_refused) {
  std::string payload(10000, 'x');
  payload_size_ = payload.size() - 1;  // the parser stops one byte short
  auto e = lsm::testing::expect_throw<ProtocolError>(
      [&] { through_stream(encoded(payload), 1); });
  EXPECT_NE(e.find("RAM stream: bytes past the end of what it carries"), std::string::npos);
}

TEST_F(Frames, a_stream_that_ends_early_is_an_error_that_says_so) {
  std::string payload(100, 'x');
  payload_size_ = 200;
  auto e = lsm::testing::expect_throw<Error>([&] { through_stream(encoded(payload), 50); });
  EXPECT_NE(e.find("RAM stream: stream ended after 0 of 50 expected bytes"), std::string::npos);
}

TEST_F(Frames, a_stream_cut_inside_a_frame_is_a_protocol_error) {
  std::string wire = encoded(std::string(1000, 'x'));
  payload_size_ = 1000;
  auto e = lsm::testing::expect_throw<ProtocolError>(
      [&] { through_stream(wire.substr(0, 500), 100); });
  EXPECT_NE(e.find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace lsm::proto

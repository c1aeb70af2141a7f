#include "proto/frame.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace lsm::proto {

namespace {

// The smallest run of zeros sent as a ZERO frame: a page of zeros lying
// across any offset of the stream still holds seven whole blocks.
constexpr std::size_t kZeroBlock = 512;

bool zero_block(const char* p) {
  std::uint64_t any = 0;
  for (std::size_t i = 0; i < kZeroBlock; i += sizeof any) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    any |= w;
  }
  return any == 0;
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_be(std::string_view in, std::size_t off, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[off + i]);
  return v;
}

std::string header(std::uint32_t kind, std::uint64_t len) {
  std::string h;
  put_be(h, kFrameMagic, 4);
  put_be(h, kind, 4);
  put_be(h, len, 8);
  return h;
}

}  // namespace

void FrameWriter::append_data(std::string& out, std::string_view bytes) {
  while (!bytes.empty()) {
    std::string_view part = bytes.substr(0, kMaxFrame);
    out += header(kFrameData, part.size());
    out += part;
    total_ += part.size();
    bytes.remove_prefix(part.size());
  }
}

void FrameWriter::append_zeros(std::string& out, std::uint64_t n) {
  while (n > 0) {
    std::uint64_t part = std::min<std::uint64_t>(n, kMaxFrame);
    out += header(kFrameZero, part);
    total_ += part;
    n -= part;
  }
}

void FrameWriter::flush(const std::string& out) {
  write_all(fd_, out, what_);
  wire_ += out.size();
}

// Header and payload in one writev: QEMU's chunks go out without a copy,
// and ssh reads them with their header rather than a 16-byte piece alone.
void FrameWriter::data(std::string_view bytes) {
  while (!bytes.empty()) {
    std::string_view part = bytes.substr(0, kMaxFrame);
    std::string h = header(kFrameData, part.size());
    write_all(fd_, h, part, what_);
    total_ += part.size();
    wire_ += h.size() + part.size();
    bytes.remove_prefix(part.size());
  }
}

void FrameWriter::splice_data(int from, std::size_t n) {
  std::string h = header(kFrameData, n);
  write_all(fd_, h, what_);
  for (std::size_t left = n; left > 0;) {
    ssize_t r = ::splice(from, nullptr, fd_, nullptr, left, SPLICE_F_MOVE | SPLICE_F_MORE);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw SystemError("splicing a frame into " + what_, errno);
    if (r == 0)
      throw Error(what_ + ": the source of a frame ended " + std::to_string(left) +
                  " bytes short of its header's " + std::to_string(n));
    left -= static_cast<std::size_t>(r);
  }
  total_ += n;
  wire_ += h.size() + n;
}

// One write for the whole chunk: pages of data between pages of zeros would
// otherwise cost a few system calls each.
void FrameWriter::sparse(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 64);
  std::size_t pending = 0, pos = 0;  // data from pending up to pos goes as DATA
  while (pos + kZeroBlock <= bytes.size()) {
    if (!zero_block(bytes.data() + pos)) {
      pos += kZeroBlock;
      continue;
    }
    std::size_t run_end = pos + kZeroBlock;
    while (run_end + kZeroBlock <= bytes.size() && zero_block(bytes.data() + run_end))
      run_end += kZeroBlock;
    append_data(out, bytes.substr(pending, pos - pending));
    append_zeros(out, run_end - pos);
    pending = pos = run_end;
  }
  append_data(out, bytes.substr(pending));
  flush(out);
}

void FrameWriter::end() { flush(header(kFrameEnd, total_)); }

std::optional<FrameReader::Header> FrameReader::next_header(Deadline deadline) {
  std::string h;
  try {
    h = in_.read_exact(16, deadline);
  } catch (const TimeoutError&) {
    throw;
  } catch (const Error&) {
    throw ProtocolError(what_ + ": stream truncated after " +
                        std::to_string(total_) + " bytes (no end frame)");
  }
  if (get_be(h, 0, 4) != kFrameMagic)
    throw ProtocolError(what_ + ": garbage where a frame header was expected, " +
                        "after " + std::to_string(total_) + " bytes");
  auto kind = static_cast<std::uint32_t>(get_be(h, 4, 4));
  std::uint64_t len = get_be(h, 8, 8);
  if (kind == kFrameEnd) {
    if (len != total_)
      throw ProtocolError(what_ + ": end frame says " + std::to_string(len) +
                          " bytes but " + std::to_string(total_) + " arrived");
    return std::nullopt;
  }
  if (kind != kFrameData && kind != kFrameZero)
    throw ProtocolError(what_ + ": unknown frame kind " + std::to_string(kind));
  if (len == 0 || len > kMaxFrame)
    throw ProtocolError(what_ + ": frame length " + std::to_string(len) +
                        " out of range");
  return Header{kind, len};
}

ProtocolError FrameReader::truncated_inside() const {
  return ProtocolError(what_ + ": stream truncated inside a frame after " +
                       std::to_string(total_) + " bytes");
}

std::optional<std::string> FrameReader::next(Deadline deadline) {
  std::optional<Header> h = next_header(deadline);
  if (!h) return std::nullopt;
  std::string payload;
  if (h->kind == kFrameZero) {
    payload.assign(h->len, '\0');
  } else {
    try {
      payload = in_.read_exact(h->len, deadline);
    } catch (const TimeoutError&) {
      throw;
    } catch (const Error&) {
      throw truncated_inside();
    }
  }
  total_ += h->len;
  return payload;
}

bool FrameReader::next_to(int fd, const std::string& fd_what, Deadline deadline) {
  // Headers read exactly: the payload behind each stays in the descriptor,
  // to be spliced rather than read.
  in_.set_read_ahead(false);
  std::optional<Header> h = next_header(deadline);
  if (!h) return false;
  if (h->kind == kFrameZero) {
    write_all(fd, std::string(h->len, '\0'), fd_what);
  } else {
    try {
      in_.pass(h->len, fd, fd_what, deadline);
    } catch (const TimeoutError&) {
      throw;
    } catch (const SystemError&) {
      throw;
    } catch (const Error&) {
      throw truncated_inside();
    }
  }
  total_ += h->len;
  return true;
}

std::string FrameStream::read_exact(std::size_t n, Deadline deadline) {
  while (buf_.size() - pos_ < n) {
    std::optional<std::string> more;
    if (!ended_) more = frames_.next(deadline);
    if (!more) {
      ended_ = true;
      throw Error(frames_.what() + ": stream ended after " + std::to_string(buf_.size() - pos_) +
                  " of " + std::to_string(n) + " expected bytes");
    }
    buf_.erase(0, pos_);
    pos_ = 0;
    buf_ += *more;
  }
  std::string out = buf_.substr(pos_, n);
  pos_ += n;
  return out;
}

void FrameStream::finish(Deadline deadline) {
  if (pos_ == buf_.size() && !ended_ && !frames_.next(deadline)) ended_ = true;
  if (!ended_ || pos_ != buf_.size())
    throw ProtocolError(frames_.what() + ": bytes past the end of what it carries");
}

}  // namespace lsm::proto

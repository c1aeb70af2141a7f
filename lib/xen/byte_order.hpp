// Fixed-width integers in the byte orders of Xen's stream formats: headers
// are big-endian, records little-endian on x86.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lsm::xen {

inline void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

inline std::uint64_t get_be(std::string_view in, std::size_t off, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[off + i]);
  return v;
}

inline std::uint64_t get_le(std::string_view in, std::size_t off, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[off + i]);
  return v;
}

// Records are padded to 8 octets.
inline std::size_t padded(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

}  // namespace lsm::xen

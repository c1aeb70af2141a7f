// Sums and products of sizes that came from elsewhere (messages, QMP,
// statvfs): wrapping around would turn "too big" into "fits".
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace lsm {

[[noreturn]] inline void overflowed(const std::string& what, std::uint64_t a, const char* op,
                                    std::uint64_t b) {
  throw Error(what + ": " + std::to_string(a) + op + std::to_string(b) + " overflows 64 bits");
}

// a + b; throws naming what if it does not fit in 64 bits.
inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const std::string& what) {
  std::uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum)) overflowed(what, a, " + ", b);
  return sum;
}

// a * b; throws naming what if it does not fit in 64 bits.
inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& what) {
  std::uint64_t product;
  if (__builtin_mul_overflow(a, b, &product)) overflowed(what, a, " * ", b);
  return product;
}

}  // namespace lsm

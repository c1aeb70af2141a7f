// Sums and products of sizes that came from elsewhere (messages, QMP,
// statvfs): wrapping around would turn "too big" into "fits".
#pragma once

#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace lsm {

// a + b; throws naming what if it does not fit in 64 bits.
inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const std::string& what) {
  std::uint64_t sum;
  if (__builtin_add_overflow(a, b, &sum))
    throw Error(what + ": " + std::to_string(a) + " + " + std::to_string(b) +
                " bytes overflows 64 bits");
  return sum;
}

// a * b; throws naming what if it does not fit in 64 bits.
inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const std::string& what) {
  std::uint64_t product;
  if (__builtin_mul_overflow(a, b, &product))
    throw Error(what + ": " + std::to_string(a) + " * " + std::to_string(b) +
                " overflows 64 bits");
  return product;
}

}  // namespace lsm

// Stable non-cryptographic hashing for names derived from content (interface names, set
// names): the same input gives the same value in every process and version.
#pragma once

#include <cstdint>
#include <string_view>

namespace coral {

// FNV-1a, 64 bits.
constexpr uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace coral

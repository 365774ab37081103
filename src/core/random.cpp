#include "upm/core/random.h"

#include <limits>

namespace upm {

uint64_t Rng::below_unbiased(uint64_t n) {
  unsigned __int128 product = static_cast<unsigned __int128>(next()) * n;
  auto low = static_cast<uint64_t>(product);
  if (low < n) {
    // Reject the 2^64 mod n products that would favour some results.
    const uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<uint64_t>(product);
    }
  }
  return static_cast<uint64_t>(product >> 64);
}

double Rng::canonical() {
  // The conversion rounds to nearest, so a draw within 2^10 of 2^64 becomes
  // 1.0; libstdc++ returns the largest double below 1 then.
  const double value = static_cast<double>(next()) * 0x1.0p-64;
  return value >= 1.0 ? std::nextafter(1.0, 0.0) : value;
}

uint64_t sequence_seed(uint64_t seed, uint64_t index) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t stable_hash(const std::string& text, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace upm

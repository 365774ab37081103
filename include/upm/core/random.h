#pragma once
// The project's one source of randomness: a seeded std::mt19937_64 (whose
// sequence the standard fixes) and every way the project draws from it. The
// std:: distributions and std::shuffle are implementation-defined, so they are
// never used; where results were first produced through libstdc++'s
// distributions, the same arithmetic is spelled out here (canonical(),
// below_unbiased()), so synthetic users, splits, shuffles, bootstrap
// intervals and sampled tokens are the same on every platform.

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace upm {

// Fisher-Yates, the one shuffle: `draw_index(i)` returns an index in [0, i).
template <class T, class DrawIndex>
void fisher_yates(std::vector<T>& items, DrawIndex&& draw_index) {
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[draw_index(i)]);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t next() { return engine_(); }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n); n > 0.
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(uniform() * static_cast<double>(n)); }
  // next() % n, n > 0: biased toward small values by at most n / 2^64, which
  // is negligible for the sizes shuffled here; the draw of seeded_shuffle.
  uint64_t remainder(uint64_t n) { return next() % n; }
  // Uniform integer in [0, n), n > 0, without bias: Lemire's multiply-shift
  // with rejection, the draw of libstdc++'s uniform_int_distribution<uint64_t>
  // (0, n - 1) on a 64-bit engine.
  uint64_t below_unbiased(uint64_t n);
  // Uniform in [0, 1): libstdc++'s generate_canonical<double, 53> on a 64-bit
  // engine, i.e. one draw rounded to a double times 2^-64, kept below 1.
  // Unlike uniform(), a draw near 0 keeps more than 53 bits.
  double canonical();
  // libstdc++'s uniform_real_distribution<double>(low, high) on a 64-bit engine.
  double uniform_real(double low, double high) { return canonical() * (high - low) + low; }
  // Uniform integer in [low, high].
  int64_t between(int64_t low, int64_t high) { return low + static_cast<int64_t>(below(high - low + 1)); }
  bool chance(double p) { return uniform() < p; }
  // Standard normal (Box-Muller).
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }
  // Fisher-Yates drawing each index with below().
  template <class T>
  void shuffle(std::vector<T>& items) {
    fisher_yates(items, [this](uint64_t n) { return below(n); });
  }

 private:
  std::mt19937_64 engine_;
};

// Fisher-Yates over a fresh Rng(seed), drawing each index with remainder():
// the order of training batches, RL tasks, shown options and held-out users.
template <class T>
void seeded_shuffle(std::vector<T>& items, uint64_t seed) {
  Rng rng(seed);
  fisher_yates(items, [&rng](uint64_t n) { return rng.remainder(n); });
}

// Seed of stream `index` of a run seeded `seed` (splitmix64, so neighbouring
// seeds and indices give unrelated streams).
uint64_t sequence_seed(uint64_t seed, uint64_t index);

// A stable 64-bit hash for deterministic orders that do not depend on a seed,
// e.g. of package names, and for sharding users over ranks. FNV-1a's loop and
// prime, but the offset basis 1469598103934665603 lacks the last digit of the
// published 14695981039346656037: every shard and order depends on it, so it
// stays.
uint64_t stable_hash(const std::string& text, uint64_t seed = 0);

}  // namespace upm

// A small deterministic random number generator for the synthetic world.
//
// Why not <random>: the distributions of the C++ standard library (normal_distribution, ...) are
// implementation-defined, so the same seed could give different datasets with another standard library.
// This generator (xoshiro256** seeded through SplitMix64) and its float helpers are fully specified here,
// so a seed names one dataset everywhere.
//
// Every image of the world draws from its own stream, `Rng(seed).Fork(tag, index)`, so the output does not
// depend on how many threads render it or in which order.
//
//   gcl::data::Rng rng(42);
//   float u = rng.Uniform(0.f, 1.f);
//   gcl::data::Rng image_rng = rng.Fork(/*tag=*/7, /*index=*/image_index);
#ifndef GCL_DATA_SYNTH_RNG_H_
#define GCL_DATA_SYNTH_RNG_H_

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "common/splitmix64.h"

namespace gcl::data {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    for (uint64_t& word : state_) word = NextSplitMix64(&s);
  }

  // An independent stream derived from this generator's seed state, a tag naming the purpose and an index.
  // Forking does not advance this generator.
  Rng Fork(uint64_t tag, uint64_t index) const {
    const uint64_t s = state_[0] ^ (state_[1] << 1) ^ (tag * 0x9E3779B97F4A7C15ull);
    const uint64_t mixed = gcl::SplitMix64(s) ^ (index * 0xD1B54A32D192ED03ull);
    return Rng(gcl::SplitMix64(mixed));
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 24 bits of resolution (exact in float).
  float Unit() { return static_cast<float>(Next() >> 40) * (1.0f / 16777216.0f); }
  float Uniform(float lo, float hi) { return lo + (hi - lo) * Unit(); }
  // Uniform integer in [lo, hi] (inclusive).
  int UniformInt(int lo, int hi) {
    if (hi < lo) throw std::invalid_argument("Rng::UniformInt: empty range");
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(Next() % span);
  }
  bool Bernoulli(float p) { return Unit() < p; }
  // Standard normal through Box-Muller (one value per call; no cached second value, so the stream stays simple).
  float Normal(float mean = 0.f, float stddev = 1.f) {
    const double u1 = (static_cast<double>(Next() >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    const double u2 = static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0);
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    return mean + stddev * static_cast<float>(z);
  }
  // Index drawn with probability proportional to weights (all >= 0, sum > 0).
  int Choice(const std::vector<float>& weights) {
    double total = 0.0;
    for (float w : weights) total += w;
    if (!(total > 0.0)) throw std::invalid_argument("Rng::Choice: weights must have a positive sum");
    double r = Unit() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      r -= weights[i];
      if (r < 0.0) return static_cast<int>(i);
    }
    return static_cast<int>(weights.size()) - 1;
  }
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(Next() % i);
      std::swap(items[i - 1], items[j]);
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_RNG_H_

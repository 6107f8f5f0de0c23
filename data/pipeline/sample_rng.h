// Portable, seedable random streams for the data pipeline.
//
//   gcl::data::SampleRng rng(gcl::data::MixSeed(seed, epoch, position));
//   int angle = angles[rng.Below(angles.size())];
//
// The standard library's distributions differ between implementations, so the same seed would give different
// batches with another compiler; these draws are defined here bit for bit (SplitMix64 + rejection sampling).
// Every sample gets its own stream keyed by (seed, epoch, position), which is what makes the batches the same for
// any number of decoding threads. Not cryptographic.
#ifndef GCL_DATA_PIPELINE_SAMPLE_RNG_H_
#define GCL_DATA_PIPELINE_SAMPLE_RNG_H_

#include <cstdint>
#include <initializer_list>

#include "common/splitmix64.h"

namespace gcl::data {

// Combines several keys into one seed; the order of the keys matters.
inline uint64_t MixSeed(std::initializer_list<uint64_t> keys) {
  uint64_t h = 0x243F6A8885A308D3ULL;
  for (uint64_t k : keys) h = SplitMix64(h ^ SplitMix64(k));
  return h;
}

class SampleRng {
 public:
  explicit SampleRng(uint64_t seed) : state_(seed) {}

  uint64_t Next() { return NextSplitMix64(&state_); }

  // Uniform integer in [0, n), n >= 1, without modulo bias.
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x = Next();
    while (x >= limit) x = Next();
    return x % n;
  }

  // Uniform double in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }

  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  bool Bernoulli(double p) { return Uniform() < p; }

 private:
  uint64_t state_;
};

}  // namespace gcl::data

#endif  // GCL_DATA_PIPELINE_SAMPLE_RNG_H_

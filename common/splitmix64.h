// SplitMix64 (Steele, Lea & Flood 2014): the one 64-bit mixer behind the project's seeded streams (the image
// pipeline's per-sample draws, the loader's per-sample seeds, the synthetic world's generator). Defined here bit
// for bit so that a seed means the same numbers with every compiler and standard library.
#ifndef GCL_COMMON_SPLITMIX64_H_
#define GCL_COMMON_SPLITMIX64_H_

#include <cstdint>

namespace gcl {

// The golden-ratio increment of the SplitMix64 sequence.
inline constexpr uint64_t kSplitMix64Increment = 0x9E3779B97F4A7C15ULL;

// One SplitMix64 step on `x`: (x + increment) through the bijective finaliser. The sequence s, s + increment,
// s + 2 increment, ... mixed this way is SplitMix64's output stream for seed s.
inline uint64_t SplitMix64(uint64_t x) {
  x += kSplitMix64Increment;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// The next output of the SplitMix64 stream whose state is `*state`, advancing it.
inline uint64_t NextSplitMix64(uint64_t* state) {
  const uint64_t z = SplitMix64(*state);
  *state += kSplitMix64Increment;
  return z;
}

}  // namespace gcl

#endif  // GCL_COMMON_SPLITMIX64_H_

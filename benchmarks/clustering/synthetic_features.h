// Synthetic ReID-like features for the clustering benchmarks: Gaussian blobs on the unit sphere.
#ifndef GCL_BENCHMARKS_CLUSTERING_SYNTHETIC_FEATURES_H_
#define GCL_BENCHMARKS_CLUSTERING_SYNTHETIC_FEATURES_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace gcl::clustering::bench {

// n unit vectors of dimension dim around `identities` random centres; `spread` is the per-coordinate noise std
// (0.04 at dim 512 gives same-identity cosine similarities near 0.55, like a trained ReID embedding).
// identity (optional) receives each row's centre.
inline at::Tensor BlobsOnSphere(int64_t n, int64_t dim, int64_t identities, double spread, uint64_t seed,
                                at::Tensor* identity = nullptr) {
  at::manual_seed(seed);
  const at::Tensor centres = at::randn({identities, dim});
  const at::Tensor unit = centres / centres.norm(2, 1, true);
  const at::Tensor id = at::randint(identities, {n}, at::kLong);
  const at::Tensor x = unit.index_select(0, id) + spread * at::randn({n, dim});
  if (identity != nullptr) *identity = id;
  return (x / x.norm(2, 1, true)).contiguous();
}

// Peak resident set size of this process (VmHWM) in MB, or -1 if /proc is unavailable.
inline double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      status >> kb;
      return kb / 1024.0;
    }
  }
  return -1;
}

}  // namespace gcl::clustering::bench

#endif  // GCL_BENCHMARKS_CLUSTERING_SYNTHETIC_FEATURES_H_

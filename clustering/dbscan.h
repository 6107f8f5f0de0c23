// DBSCAN over a sparse Jaccard distance matrix, and the reference's eps rules (§6).
//
//   const double eps = EpsFromRho(jaccard, /*rho=*/0.002);    // or a fixed eps such as 0.55 (GCL-extended)
//   const std::vector<int64_t> labels = Dbscan(jaccard, eps, /*min_samples=*/4);
//
// `distances` follows the KReciprocalJaccard() convention: N x N, absent entries are exactly 1.
#ifndef GCL_CLUSTERING_DBSCAN_H_
#define GCL_CLUSTERING_DBSCAN_H_

#include <cstdint>
#include <vector>

#include "clustering/sparse_rows.h"

namespace gcl::clustering {

// The value of every pair a sparse Jaccard matrix does not store.
constexpr float kAbsentJaccardDistance = 1.0f;

// The reference's adaptive eps: over the upper triangle (i < j) of the dense matrix, keep the non-zero
// distances, sort them ascending and average the first round(rho * count) (numpy rounding, half to even).
// Absent pairs count as distance 1: non-zero, so in `count`, and among the averaged ones only once the stored
// pairs run out. Computed exactly, in double precision. Throws std::invalid_argument if rho is not in (0, 1] or
// round(rho * count) is 0 (eps would be the mean of nothing).
double EpsFromRho(const SparseRows& distances, double rho);

// sklearn.cluster.DBSCAN(eps, min_samples, metric='precomputed') on the dense matrix: j is a neighbour of i when
// d(i, j) <= eps (i itself when d(i, i) <= eps: a Jaccard matrix stores d(i, i) ~ 0); i is a core point with
// at least min_samples neighbours. Absent entries are 1, like any absent pair.
// Clusters are numbered 0, 1, ... in the order sklearn creates them (by their lowest-index core point); every
// point not density-reachable from a core point is -1. eps >= 1 makes every pair neighbours (absent pairs are 1),
// which is handled exactly without densifying.
std::vector<int64_t> Dbscan(const SparseRows& distances, double eps, int min_samples = 4);

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_DBSCAN_H_

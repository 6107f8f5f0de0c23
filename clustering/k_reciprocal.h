// k-reciprocal encoding and Jaccard distance (Zhong et al., CVPR 2017), held sparsely in O(N k) memory.
//
// Two users, one algorithm:
//  - pseudo labels (reference §6, SpCL/GCL `compute_jaccard_distance`, k1 = 30, k2 = 6): KReciprocalJaccard();
//  - re-ranking for evaluation (reference §8, `utils/rerank.py`, k1 = 20, k2 = 6): rerank.h builds on the
//    KReciprocalEncoding() and JaccardAccumulator pieces.
//
// For each row i of an N x L nearest-neighbour list `rank` (rank[i][0] is normally i itself):
//   R(i, m)   = { c in rank[i][:m] : i in rank[c][:m] }                      (k_reciprocal_neigh)
//   E_i       = unique( R(i, m_full) ∪ R(c, m_half) for c in R(i, m_full) with
//                       |R(c, m_half) ∩ R(i, m_full)| > 2/3 |R(c, m_half)| )
//   V[i, E_i] = softmax_j(-dist(i, j)), zero elsewhere
//   V_qe[i]   = mean of V[rank[i][:k2]]                                      (query expansion; skipped if k2 == 1)
//   S(i, j)   = sum_k min(V_qe[i, k], V_qe[j, k]);  d_J(i, j) = max(0, 1 - S / (2 - S))
// Every pair with S = 0 has d_J exactly 1 and is not stored; every stored pair has the dense algorithm's value.
// The sum for S runs over k in ascending order for both (i, j) and (j, i), so the stored matrix is exactly
// symmetric.
#ifndef GCL_CLUSTERING_K_RECIPROCAL_H_
#define GCL_CLUSTERING_K_RECIPROCAL_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "clustering/knn_graph.h"
#include "clustering/sparse_rows.h"

namespace gcl::clustering {

struct EncodingParams {
  int forward_len = 30;  // m_full: entries of rank[i] searched for R(i, m_full).
  int half_len = 16;     // m_half: entries searched for R(c, m_half).
  int k2 = 6;            // Query expansion width; 1 disables it.
  int num_threads = 0;   // <= 0: one per hardware thread.
};

// Fills (*dist)[t] with the distance between row i and cols[t]; V[i, cols] is the softmax of -dist.
using PairDistanceFn = std::function<void(int64_t i, const std::vector<int32_t>& cols, std::vector<double>* dist)>;

// The (query-expanded) k-reciprocal encoding V as an N x N sparse matrix (absent entries are 0).
// `rank` is row-major N x rank_cols; needs rank_cols >= max(forward_len, half_len, k2).
SparseRows KReciprocalEncoding(const int32_t* rank, int64_t num_rows, int rank_cols, const EncodingParams& params,
                               const PairDistanceFn& distance);

// S(i, ·) of one row against every row of V, using V's transpose as the inverted index.
class JaccardAccumulator {
 public:
  explicit JaccardAccumulator(int64_t num_rows);

  // Columns j with S(i, j) > 0 in ascending order and their d_J(i, j) = max(0, 1 - S / (2 - S)).
  void Row(const SparseRows& v, const SparseRows& v_transposed, int64_t i, std::vector<int32_t>* cols,
           std::vector<float>* distances);

 private:
  std::vector<double> sums_;
  std::vector<int32_t> touched_;
};

struct JaccardParams {
  int k1 = 30;  // Reference §6 scripts (argparse default 20).
  int k2 = 6;
  int num_threads = 0;
};

struct JaccardTimes {
  double encoding_seconds = 0;
  double jaccard_seconds = 0;
  int64_t encoding_nonzeros = 0;
};

// SpCL/GCL `compute_jaccard_distance` on L2-normalised features (row-major N x D), given their exact kNN
// graph with at least k1 neighbours (self included). As in the reference, the kNN list has k1 entries, so
// R(i, k1) searches all k1 of them and R(c, round(k1 / 2)) the first round(k1 / 2) + 1 (numpy rounding: half to
// even); the softmax is over -(2 - 2 x_i·x_j). Returns the N x N Jaccard distances; absent entries are exactly 1.
SparseRows KReciprocalJaccard(const float* features, int64_t num_rows, int64_t dim, const KnnGraph& knn,
                              const JaccardParams& params, JaccardTimes* times = nullptr);

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_K_RECIPROCAL_H_

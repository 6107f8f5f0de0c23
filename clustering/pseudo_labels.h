// Pseudo labels for one clustering round (reference §6, GCL stage 3, start of every epoch):
// features -> exact kNN (k1) -> sparse k-reciprocal Jaccard distance -> eps (rho rule or fixed) -> DBSCAN.
//
//   PseudoLabelOptions opt;                     // k1 30, k2 6, min_samples 4, rho 0.002 (Market/Duke)
//   opt.rho = 0.0012;                           // MSMT17
//   const PseudoLabels p = ComputePseudoLabels(memory_features, opt);
//   // p.labels[i] in {-1 (outlier), 0, 1, ...}; p.stats for logging.
//
// Memory is O(N k) throughout (plus one block_rows x N distance slab for the kNN search): MSMT17's 32,621 rows
// need a few hundred MB, where the reference's dense N x N float matrices need ~4.3 GB each.
#ifndef GCL_CLUSTERING_PSEUDO_LABELS_H_
#define GCL_CLUSTERING_PSEUDO_LABELS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gcl::clustering {

enum class EpsRule {
  kRho,    // GCL (reference §6): mean of the smallest rho fraction of non-zero upper-triangle distances.
  kFixed,  // GCL-extended (reference §13.12): a fixed eps such as 0.55.
};

struct PseudoLabelOptions {
  int k1 = 30;  // Reference §6 (scripts; SpCL's argparse default is 20).
  int k2 = 6;
  int min_samples = 4;
  EpsRule eps_rule = EpsRule::kRho;
  double rho = 0.002;       // 0.002 Market/Duke, 0.0012 MSMT17 (reference §6).
  double fixed_eps = 0.55;  // Used when eps_rule == kFixed.
  // Rows are L2-normalised first (the reference clusters the unit-norm memory, where this changes nothing).
  bool l2_normalize = true;
  int num_threads = 0;        // Plain-C++ stages; <= 0: one per hardware thread. LibTorch keeps its own setting.
  int64_t knn_block_rows = 1024;
};

struct PseudoLabelStats {
  int64_t num_samples = 0;
  int64_t num_clusters = 0;
  int64_t num_outliers = 0;
  double eps = 0;
  std::map<int64_t, int64_t> cluster_size_histogram;  // cluster size -> number of clusters of that size.
  int64_t jaccard_nonzeros = 0;                        // Stored pairs (all others are distance 1).
  int64_t encoding_nonzeros = 0;                       // Non-zeros of the query-expanded encoding V.
  int64_t jaccard_bytes = 0;
  double knn_seconds = 0;
  double encoding_seconds = 0;
  double jaccard_seconds = 0;
  double eps_seconds = 0;
  double dbscan_seconds = 0;
  double total_seconds = 0;
};

struct PseudoLabels {
  std::vector<int64_t> labels;  // -1 outlier, else cluster id 0..num_clusters-1.
  PseudoLabelStats stats;
};

// features: N x D float32 on any device (copied to the CPU for the sparse stages). Throws std::invalid_argument
// on bad shapes, non-finite values, N <= k1 or bad options.
PseudoLabels ComputePseudoLabels(const at::Tensor& features, const PseudoLabelOptions& options = {});

// Human-readable multi-line summary of the statistics (clusters, outliers, size histogram, step times).
std::string FormatStats(const PseudoLabelStats& stats);

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_PSEUDO_LABELS_H_

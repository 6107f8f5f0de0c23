// ReID evaluation from features (reference §8): squared Euclidean distances between (by default L2-normalised)
// query and gallery features, optionally k-reciprocal re-ranking (Zhong et al., CVPR 2017), then reid_metrics.h.
//
//   EvaluationOptions opt;           // plain evaluation, as the reference runs it
//   opt.rerank = true;               // k1 20, k2 6, lambda 0.3
//   const ReidMetrics m = EvaluateFeatures(query_features, gallery_features, query_labels, gallery_labels, opt);
//
// Everything is blocked over query rows: a block_rows x G slab of distances exists at a time, so MSMT17
// (11,659 x 82,161) fits in memory, re-ranked or not. Re-ranking keeps its k-reciprocal encoding sparse
// (O((Q + G) k)) instead of the reference's dense (Q + G)^2 matrices (35 GB at MSMT17 scale).
#ifndef GCL_EVALUATION_EVALUATION_H_
#define GCL_EVALUATION_EVALUATION_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "evaluation/reid_metrics.h"

namespace gcl::evaluation {

struct RerankOptions {
  int k1 = 20;  // Reference §8 (utils/rerank.py defaults).
  int k2 = 6;
  double lambda = 0.3;  // final = (1 - lambda) * jaccard + lambda * original.
  // The reference's rerank.py (open-reid/SpCL lineage) squares the distances it is given, and the evaluator gives
  // it squared Euclidean distances, so its "original distance" is ||x - y||^4 / row max. false uses Zhong et al.'s
  // own ||x - y||^2 / row max. The ranking inside is the same either way; the weights and the mix differ.
  bool square_input_distances = true;
};

struct EvaluationOptions {
  ReidMetricOptions metrics;
  bool l2_normalize = true;  // The reference's test features are L2-normalised (§8); normalising again is a no-op.
  bool rerank = false;       // The reference never enables it (§8).
  RerankOptions rerank_options;
  int64_t block_rows = 256;
  int num_threads = 0;  // Plain-C++ stages; <= 0: one per hardware thread.
};

// Receives distances for query rows [begin, begin + rows) x all gallery columns, row-major.
using DistanceBlockFn = std::function<void(int64_t begin, int64_t rows, const float* distances)>;

// Computes the (re-ranked, if options.rerank) query x gallery distances block by block and hands each block to
// `sink`. query: Q x D, gallery: G x D float32 on one device. Throws std::invalid_argument on bad shapes or
// non-finite values.
void ComputeDistanceBlocks(const at::Tensor& query, const at::Tensor& gallery, const EvaluationOptions& options,
                           const DistanceBlockFn& sink);

// Labels must match the feature row counts; throws std::invalid_argument otherwise.
ReidMetrics EvaluateFeatures(const at::Tensor& query, const at::Tensor& gallery, const ReidLabels& query_labels,
                             const ReidLabels& gallery_labels, const EvaluationOptions& options = {});

}  // namespace gcl::evaluation

#endif  // GCL_EVALUATION_EVALUATION_H_

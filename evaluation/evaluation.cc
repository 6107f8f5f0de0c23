#include "evaluation/evaluation.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "clustering/k_reciprocal.h"
#include "clustering/knn.h"
#include "common/parallel_for.h"
#include "clustering/sparse_rows.h"

namespace gcl::evaluation {

// The re-ranking reuses the clustering library's k-reciprocal machinery (the same Jaccard distance as the pseudo
// labels, reference §6).
using clustering::EncodingParams;
using clustering::ExactKnn;
using clustering::JaccardAccumulator;
using clustering::KnnGraph;
using clustering::KReciprocalEncoding;
using clustering::SparseRows;
using clustering::Transpose;

namespace {

void CheckFeatures(const at::Tensor& t, const char* name) {
  if (!t.defined() || t.dim() != 2 || t.scalar_type() != at::kFloat) {
    throw std::invalid_argument(std::string("evaluation: ") + name + " features must be a 2-D float32 tensor");
  }
  if (t.size(0) == 0) throw std::invalid_argument(std::string("evaluation: ") + name + " set is empty");
  if (!at::isfinite(t).all().item<bool>()) {
    throw std::invalid_argument(std::string("evaluation: ") + name + " features hold NaN or Inf");
  }
}

at::Tensor Prepare(const at::Tensor& t, bool l2_normalize) {
  const at::Tensor c = t.contiguous();
  return l2_normalize ? c / c.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12) : c;
}

// Squared Euclidean distances of query rows [begin, begin + rows) to all gallery rows, as the reference's
// pairwise_distance computes them: ||q||^2 + ||g||^2 - 2 q.g (not clamped).
at::Tensor DistanceBlock(const at::Tensor& q, const at::Tensor& g, const at::Tensor& g_sq, int64_t begin,
                         int64_t rows) {
  const at::Tensor qb = q.narrow(0, begin, rows);
  const at::Tensor q_sq = qb.pow(2).sum(1, /*keepdim=*/true);
  return at::addmm(g_sq.expand({rows, g.size(0)}), qb, g.t(), /*beta=*/1, /*alpha=*/-2) + q_sq;
}

void Rerank(const at::Tensor& q, const at::Tensor& g, const EvaluationOptions& options, const DistanceBlockFn& sink) {
  const RerankOptions& ro = options.rerank_options;
  const int64_t nq = q.size(0);
  const int64_t ng = g.size(0);
  const int64_t n = nq + ng;
  if (ro.k1 < 1 || ro.k2 < 1 || ro.k2 > ro.k1 + 1 || ro.k1 + 1 > n) {
    throw std::invalid_argument("re-ranking: need 1 <= k2 <= k1 + 1 <= query + gallery size, got k1 = " +
                                std::to_string(ro.k1) + ", k2 = " + std::to_string(ro.k2));
  }
  if (!(ro.lambda >= 0.0 && ro.lambda <= 1.0)) throw std::invalid_argument("re-ranking: lambda must be in [0, 1]");
  const at::Tensor all = at::cat({q, g}, 0).contiguous();
  const int ranks = ro.k1 + 1;  // rerank.py: initial_rank[i, :k1 + 1] of a full argsort.
  const KnnGraph knn = ExactKnn(all, all, ranks);
  const double power = ro.square_input_distances ? 2.0 : 1.0;
  std::vector<double> row_max(n);
  for (int64_t i = 0; i < n; ++i) {
    row_max[i] = std::pow(static_cast<double>(knn.max_distances[i]), power);
    if (!(row_max[i] > 0.0)) {
      throw std::invalid_argument("re-ranking: row " + std::to_string(i) +
                                  " is at distance 0 from every row (identical features); the normalised distance "
                                  "is undefined");
    }
  }
  const at::Tensor cpu = all.cpu().contiguous();
  const float* x = cpu.data_ptr<float>();
  const int64_t dim = cpu.size(1);
  std::vector<double> sq_norm(n);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t d = 0; d < dim; ++d) s += static_cast<double>(x[i * dim + d]) * x[i * dim + d];
    sq_norm[i] = s;
  }
  const auto original = [&](int64_t i, const std::vector<int32_t>& cols, std::vector<double>* dist) {
    for (size_t t = 0; t < cols.size(); ++t) {
      const float* xi = x + i * dim;
      const float* xj = x + static_cast<int64_t>(cols[t]) * dim;
      double dot = 0;
      for (int64_t d = 0; d < dim; ++d) dot += static_cast<double>(xi[d]) * xj[d];
      const double sq = sq_norm[i] + sq_norm[cols[t]] - 2.0 * dot;
      (*dist)[t] = std::pow(sq, power) / row_max[i];  // weight = exp(-original_dist[i, j]) (rerank.py).
    }
  };
  EncodingParams enc;
  enc.forward_len = ranks;
  enc.half_len = std::min(ranks, static_cast<int>(std::nearbyint(ro.k1 / 2.0)) + 1);
  enc.k2 = ro.k2;
  enc.num_threads = options.num_threads;
  const SparseRows v = KReciprocalEncoding(knn.indices.data(), n, ranks, enc, original);
  const SparseRows vt = Transpose(v);

  const int threads = ResolveThreads(options.num_threads);
  std::vector<JaccardAccumulator> accumulators;
  accumulators.reserve(threads);
  for (int t = 0; t < threads; ++t) accumulators.emplace_back(n);
  const at::Tensor g_sq = g.pow(2).sum(1).unsqueeze(0);
  const double lambda = ro.lambda;
  const int64_t block = std::max<int64_t>(1, options.block_rows);
  for (int64_t begin = 0; begin < nq; begin += block) {
    const int64_t rows = std::min(block, nq - begin);
    at::Tensor raw = DistanceBlock(q, g, g_sq, begin, rows).cpu().contiguous();
    float* out = raw.data_ptr<float>();
    ParallelFor(rows, options.num_threads, 4, [&](int64_t r0, int64_t r1, int worker) {
      std::vector<int32_t> cols;
      std::vector<float> jaccard;
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = begin + r;
        float* row = out + r * ng;
        accumulators[worker].Row(v, vt, i, &cols, &jaccard);
        // cols is ascending: skip the query columns, then walk it alongside the gallery columns.
        size_t t = std::lower_bound(cols.begin(), cols.end(), static_cast<int32_t>(nq)) - cols.begin();
        for (int64_t j = 0; j < ng; ++j) {
          double jac = 1.0;  // No shared k-reciprocal neighbour.
          if (t < cols.size() && cols[t] == nq + j) jac = jaccard[t++];
          const double orig = std::pow(static_cast<double>(row[j]), power) / row_max[i];
          row[j] = static_cast<float>((1.0 - lambda) * jac + lambda * orig);
        }
      }
    });
    sink(begin, rows, out);
  }
}

}  // namespace

void ComputeDistanceBlocks(const at::Tensor& query, const at::Tensor& gallery, const EvaluationOptions& options,
                           const DistanceBlockFn& sink) {
  CheckFeatures(query, "query");
  CheckFeatures(gallery, "gallery");
  if (query.size(1) != gallery.size(1)) {
    throw std::invalid_argument("evaluation: query features have " + std::to_string(query.size(1)) +
                                " dimensions, gallery features " + std::to_string(gallery.size(1)));
  }
  if (query.device() != gallery.device()) throw std::invalid_argument("evaluation: query and gallery on different devices");
  const at::Tensor q = Prepare(query, options.l2_normalize);
  const at::Tensor g = Prepare(gallery, options.l2_normalize);
  if (options.rerank) {
    Rerank(q, g, options, sink);
    return;
  }
  const at::Tensor g_sq = g.pow(2).sum(1).unsqueeze(0);
  const int64_t block = std::max<int64_t>(1, options.block_rows);
  for (int64_t begin = 0; begin < q.size(0); begin += block) {
    const int64_t rows = std::min(block, q.size(0) - begin);
    const at::Tensor d = DistanceBlock(q, g, g_sq, begin, rows).cpu().contiguous();
    sink(begin, rows, d.data_ptr<float>());
  }
}

ReidMetrics EvaluateFeatures(const at::Tensor& query, const at::Tensor& gallery, const ReidLabels& query_labels,
                             const ReidLabels& gallery_labels, const EvaluationOptions& options) {
  const auto check = [](const at::Tensor& t, const ReidLabels& l, const char* name) {
    if (l.pids.size() != l.camids.size() || (t.defined() && t.dim() >= 1 && t.size(0) != l.size())) {
      throw std::invalid_argument(std::string("evaluation: ") + name + " has " +
                                  std::to_string(t.defined() && t.dim() >= 1 ? t.size(0) : 0) +
                                  " feature rows but " + std::to_string(l.pids.size()) + " pids and " +
                                  std::to_string(l.camids.size()) + " camids");
    }
  };
  check(query, query_labels, "query");
  check(gallery, gallery_labels, "gallery");
  MetricAccumulator acc(options.metrics);
  std::vector<QueryScore> scores;
  ComputeDistanceBlocks(query, gallery, options, [&](int64_t begin, int64_t rows, const float* d) {
    scores.assign(rows, QueryScore());
    ParallelFor(rows, options.num_threads, 8, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) {
        scores[r] = ScoreQuery(d + r * gallery_labels.size(), query_labels.pids[begin + r],
                               query_labels.camids[begin + r], gallery_labels, options.metrics);
      }
    });
    for (const QueryScore& s : scores) acc.Add(s);
  });
  return acc.Finish();
}

}  // namespace gcl::evaluation

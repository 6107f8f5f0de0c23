#include "evaluation/evaluation.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "tests/clustering/test_data.h"

namespace gcl::evaluation {
namespace {

using Dense = std::vector<std::vector<double>>;

at::Tensor ToTensor(const std::vector<float>& x, int64_t rows, int64_t dim) {
  return at::from_blob(const_cast<float*>(x.data()), {rows, dim}, at::kFloat).clone();
}

// utils/rerank.py (open-reid lineage) transcribed with dense matrices in double precision. `raw` is the
// (Q + G) x (Q + G) distance matrix the evaluator passes in (squared Euclidean).
Dense DenseRerank(const Dense& raw, int64_t nq, int k1, int k2, double lambda, double power) {
  const int64_t n = static_cast<int64_t>(raw.size());
  Dense orig(n, std::vector<double>(n));
  for (int64_t j = 0; j < n; ++j) {  // original_dist / max(original_dist, axis=0), then transposed.
    double col_max = 0;
    for (int64_t k = 0; k < n; ++k) col_max = std::max(col_max, std::pow(raw[k][j], power));
    for (int64_t i = 0; i < n; ++i) orig[j][i] = std::pow(raw[i][j], power) / col_max;
  }
  std::vector<std::vector<int64_t>> rank(n, std::vector<int64_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::iota(rank[i].begin(), rank[i].end(), 0);
    std::stable_sort(rank[i].begin(), rank[i].end(), [&](int64_t a, int64_t b) { return orig[i][a] < orig[i][b]; });
  }
  const auto reciprocal = [&](int64_t i, int k) {
    std::vector<int64_t> out;
    for (int a = 0; a <= k; ++a) {
      for (int b = 0; b <= k; ++b) {
        if (rank[rank[i][a]][b] == i) out.push_back(rank[i][a]);
      }
    }
    return out;
  };
  const int half = static_cast<int>(std::nearbyint(k1 / 2.0));
  Dense v(n, std::vector<double>(n, 0.0));
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<int64_t> r = reciprocal(i, k1);
    const std::set<int64_t> rs(r.begin(), r.end());
    std::set<int64_t> e(r.begin(), r.end());
    for (const int64_t c : r) {
      const std::vector<int64_t> rc = reciprocal(c, half);
      int common = 0;
      for (const int64_t x : std::set<int64_t>(rc.begin(), rc.end())) common += rs.count(x);
      if (common > 2.0 / 3.0 * rc.size()) e.insert(rc.begin(), rc.end());
    }
    double total = 0;
    for (const int64_t j : e) total += std::exp(-orig[i][j]);
    for (const int64_t j : e) v[i][j] = std::exp(-orig[i][j]) / total;
  }
  if (k2 != 1) {
    Dense qe(n, std::vector<double>(n, 0.0));
    for (int64_t i = 0; i < n; ++i) {
      for (int a = 0; a < k2; ++a) {
        for (int64_t j = 0; j < n; ++j) qe[i][j] += v[rank[i][a]][j] / k2;
      }
    }
    v = qe;
  }
  Dense final_dist(nq, std::vector<double>(n - nq));
  for (int64_t i = 0; i < nq; ++i) {
    for (int64_t j = nq; j < n; ++j) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += std::min(v[i][k], v[j][k]);
      final_dist[i][j - nq] = (1.0 - s / (2.0 - s)) * (1.0 - lambda) + orig[i][j] * lambda;
    }
  }
  return final_dist;
}

struct Sets {
  std::vector<float> q, g;
  int64_t nq, ng, dim;
  Dense raw;  // (Q + G)^2 squared Euclidean distances.
};

Sets MakeSets(int64_t nq, int64_t ng, int64_t dim, uint32_t seed) {
  Sets s;
  s.nq = nq;
  s.ng = ng;
  s.dim = dim;
  const std::vector<float> all = clustering::testing::ClusteredUnitVectors(nq + ng, dim, 25, 0.15, seed);
  s.q.assign(all.begin(), all.begin() + nq * dim);
  s.g.assign(all.begin() + nq * dim, all.end());
  s.raw.assign(nq + ng, std::vector<double>(nq + ng));
  for (int64_t i = 0; i < nq + ng; ++i) {
    for (int64_t j = 0; j < nq + ng; ++j) {
      s.raw[i][j] = clustering::testing::SquaredDistance(&all[i * dim], &all[j * dim], dim);
    }
  }
  return s;
}

Dense Blocks(const Sets& s, const EvaluationOptions& options) {
  Dense out(s.nq, std::vector<double>(s.ng, -1.0));
  ComputeDistanceBlocks(ToTensor(s.q, s.nq, s.dim), ToTensor(s.g, s.ng, s.dim), options,
                        [&](int64_t begin, int64_t rows, const float* d) {
                          for (int64_t r = 0; r < rows; ++r) {
                            for (int64_t j = 0; j < s.ng; ++j) out[begin + r][j] = d[r * s.ng + j];
                          }
                        });
  return out;
}

TEST(Evaluation, PlainDistancesAreSquaredEuclidean) {
  const Sets s = MakeSets(37, 90, 16, 1);
  EvaluationOptions options;
  options.block_rows = 8;
  const Dense d = Blocks(s, options);
  for (int64_t i = 0; i < s.nq; ++i) {
    for (int64_t j = 0; j < s.ng; ++j) ASSERT_NEAR(d[i][j], s.raw[i][s.nq + j], 2e-6);
  }
}

void ExpectRerankMatchesDense(bool square, int k1, int k2, double lambda) {
  const Sets s = MakeSets(45, 260, 16, 2);
  EvaluationOptions options;
  options.rerank = true;
  options.block_rows = 7;  // Several blocks, the last one partial.
  options.rerank_options.k1 = k1;
  options.rerank_options.k2 = k2;
  options.rerank_options.lambda = lambda;
  options.rerank_options.square_input_distances = square;
  const Dense got = Blocks(s, options);
  const Dense want = DenseRerank(s.raw, s.nq, k1, k2, lambda, square ? 2.0 : 1.0);
  int64_t changed = 0;
  for (int64_t i = 0; i < s.nq; ++i) {
    for (int64_t j = 0; j < s.ng; ++j) {
      ASSERT_NEAR(got[i][j], want[i][j], 1e-5) << "query " << i << ", gallery " << j;
      changed += want[i][j] < (1.0 - lambda) ? 1 : 0;  // Pairs whose Jaccard term is below 1.
    }
  }
  EXPECT_GT(changed, s.nq * 5);
}

TEST(Evaluation, RerankMatchesDenseReference) { ExpectRerankMatchesDense(true, 20, 6, 0.3); }
TEST(Evaluation, RerankZhongDistancesOddK1NoExpansion) { ExpectRerankMatchesDense(false, 15, 1, 0.5); }

TEST(Evaluation, MetricsFromFeaturesEqualMetricsFromDistanceMatrix) {
  const Sets s = MakeSets(40, 200, 16, 3);
  ReidLabels ql, gl;
  for (int64_t i = 0; i < s.nq; ++i) {
    ql.pids.push_back(i % 9);
    ql.camids.push_back(i % 3);
  }
  for (int64_t j = 0; j < s.ng; ++j) {
    gl.pids.push_back(j % 11 - 1);  // Includes junk (-1).
    gl.camids.push_back(j % 4);
  }
  for (const bool rerank : {false, true}) {
    EvaluationOptions options;
    options.rerank = rerank;
    options.block_rows = 16;
    const Dense d = Blocks(s, options);
    std::vector<float> flat;
    for (const auto& row : d) flat.insert(flat.end(), row.begin(), row.end());
    const ReidMetrics want = EvaluateDistanceMatrix(flat.data(), ql, gl);
    const ReidMetrics got = EvaluateFeatures(ToTensor(s.q, s.nq, s.dim), ToTensor(s.g, s.ng, s.dim), ql, gl, options);
    EXPECT_DOUBLE_EQ(got.map, want.map);
    EXPECT_DOUBLE_EQ(got.minp, want.minp);
    EXPECT_EQ(got.cmc, want.cmc);
    EXPECT_EQ(got.num_skipped_queries, want.num_skipped_queries);
  }
}

TEST(Evaluation, BadInputErrors) {
  const Sets s = MakeSets(4, 10, 8, 4);
  const at::Tensor q = ToTensor(s.q, 4, 8);
  const at::Tensor g = ToTensor(s.g, 10, 8);
  const ReidLabels ql{{1, 2, 3, 4}, {0, 0, 0, 0}};
  const ReidLabels gl{std::vector<int64_t>(10, 1), std::vector<int64_t>(10, 1)};
  EXPECT_THROW(EvaluateFeatures(q, g, ReidLabels{{1}, {0}}, gl), std::invalid_argument);  // Row count mismatch.
  EXPECT_THROW(EvaluateFeatures(q, g.narrow(1, 0, 4), ql, gl), std::invalid_argument);   // Dimension mismatch.
  at::Tensor bad = q.clone();
  bad[1][2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(EvaluateFeatures(bad, g, ql, gl), std::invalid_argument);
  EXPECT_THROW(EvaluateFeatures(q.narrow(0, 0, 0), g, ReidLabels{}, gl), std::invalid_argument);  // Empty query.
  EvaluationOptions options;
  options.rerank = true;
  options.rerank_options.k1 = 20;  // k1 + 1 > 14 rows.
  EXPECT_THROW(EvaluateFeatures(q, g, ql, gl, options), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::evaluation

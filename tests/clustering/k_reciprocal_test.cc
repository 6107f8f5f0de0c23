#include "clustering/k_reciprocal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

#include "tests/clustering/test_data.h"

namespace gcl::clustering {
namespace {

using Dense = std::vector<std::vector<double>>;

// SpCL/GCL compute_jaccard_distance transcribed line by line with dense N x N matrices, in double precision.
std::vector<int> KReciprocalNeigh(const KnnGraph& rank, int i, int k1) {
  const int len = std::min(k1 + 1, rank.k);  // initial_rank[i, :k1+1] on a k-column array.
  std::vector<int> out;
  for (int a = 0; a < len; ++a) {
    const int c = rank.row(i)[a];
    for (int b = 0; b < len; ++b) {
      if (rank.row(c)[b] == i) out.push_back(c);
    }
  }
  return out;
}

Dense DenseJaccard(const std::vector<float>& x, int n, int dim, const KnnGraph& rank, int k1, int k2) {
  const int half = static_cast<int>(std::nearbyint(k1 / 2.0));
  std::vector<std::vector<int>> nn_k1(n), nn_half(n);
  for (int i = 0; i < n; ++i) {
    nn_k1[i] = KReciprocalNeigh(rank, i, k1);
    nn_half[i] = KReciprocalNeigh(rank, i, half);
  }
  Dense v(n, std::vector<double>(n, 0.0));
  for (int i = 0; i < n; ++i) {
    std::vector<int> expansion = nn_k1[i];
    const std::set<int> r(nn_k1[i].begin(), nn_k1[i].end());
    for (const int cand : nn_k1[i]) {
      const std::set<int> rc(nn_half[cand].begin(), nn_half[cand].end());
      int common = 0;
      for (const int e : rc) common += r.count(e);
      if (common > 2.0 / 3.0 * static_cast<double>(nn_half[cand].size())) {
        expansion.insert(expansion.end(), nn_half[cand].begin(), nn_half[cand].end());
      }
    }
    const std::set<int> unique(expansion.begin(), expansion.end());
    double total = 0;
    for (const int j : unique) total += std::exp(-(2.0 - 2.0 * testing::Dot(&x[i * dim], &x[j * dim], dim)));
    for (const int j : unique) {
      v[i][j] = std::exp(-(2.0 - 2.0 * testing::Dot(&x[i * dim], &x[j * dim], dim))) / total;
    }
  }
  if (k2 != 1) {
    Dense qe(n, std::vector<double>(n, 0.0));
    for (int i = 0; i < n; ++i) {
      for (int a = 0; a < k2; ++a) {
        for (int j = 0; j < n; ++j) qe[i][j] += v[rank.row(i)[a]][j] / k2;
      }
    }
    v = qe;
  }
  Dense d(n, std::vector<double>(n, 0.0));
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int k = 0; k < n; ++k) s += std::min(v[i][k], v[j][k]);
      d[i][j] = std::max(0.0, 1.0 - s / (2.0 - s));
    }
  }
  return d;
}

void ExpectMatchesDense(int n, int dim, int centers, double spread, int k1, int k2, uint32_t seed) {
  const std::vector<float> x = testing::ClusteredUnitVectors(n, dim, centers, spread, seed);
  const KnnGraph knn = testing::NaiveKnn(x, n, dim, k1);
  JaccardParams params;
  params.k1 = k1;
  params.k2 = k2;
  params.num_threads = 2;
  const SparseRows sparse = KReciprocalJaccard(x.data(), n, dim, knn, params);
  const Dense dense = DenseJaccard(x, n, dim, knn, k1, k2);
  int64_t stored = 0;
  int64_t below_one = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const float absent = -1.f;
      const float got = sparse.At(i, j, absent);
      if (got == absent) {
        EXPECT_EQ(dense[i][j], 1.0) << "pair (" << i << ", " << j << ") not stored but dense is not 1";
      } else {
        ++stored;
        EXPECT_NEAR(got, dense[i][j], 1e-5) << "pair (" << i << ", " << j << ")";
        EXPECT_EQ(got, sparse.At(j, i, absent)) << "not symmetric at (" << i << ", " << j << ")";
      }
      below_one += dense[i][j] < 1.0 ? 1 : 0;
    }
  }
  EXPECT_EQ(stored, sparse.nnz());
  EXPECT_EQ(stored, below_one);  // Exactly the pairs with S > 0 are stored.
  // The data must exercise both kinds of pair.
  EXPECT_LT(stored, static_cast<int64_t>(n) * n * 9 / 10);
  EXPECT_GT(stored, 10 * n);
  std::printf("n %d: %lld of %lld pairs stored\n", n, static_cast<long long>(stored), static_cast<long long>(n) * n);
}

TEST(KReciprocalJaccard, MatchesDenseReferenceK1Of30) { ExpectMatchesDense(900, 32, 40, 0.1, 30, 6, 1); }

TEST(KReciprocalJaccard, MatchesDenseReferenceOddHalfAndNoQueryExpansion) {
  ExpectMatchesDense(500, 32, 25, 0.1, 25, 1, 2);  // round(12.5) = 12 (half to even).
}

TEST(KReciprocalJaccard, MatchesDenseReferenceOnDiffuseData) { ExpectMatchesDense(600, 6, 3, 1.0, 20, 6, 3); }

TEST(KReciprocalJaccard, RejectsBadArguments) {
  const std::vector<float> x = testing::ClusteredUnitVectors(20, 4, 2, 0.1, 4);
  const KnnGraph knn = testing::NaiveKnn(x, 20, 4, 5);
  JaccardParams params;
  params.k1 = 10;  // More than the graph holds.
  EXPECT_THROW(KReciprocalJaccard(x.data(), 20, 4, knn, params), std::invalid_argument);
  params.k1 = 5;
  params.k2 = 6;
  EXPECT_THROW(KReciprocalJaccard(x.data(), 20, 4, knn, params), std::invalid_argument);
}

TEST(SparseRows, TransposeRoundTrips) {
  SparseRows m;
  m.num_rows = 3;
  m.num_cols = 4;
  m.offsets = {0, 2, 2, 5};
  m.columns = {1, 3, 0, 1, 2};
  m.values = {1.f, 2.f, 3.f, 4.f, 5.f};
  const SparseRows t = Transpose(m);
  EXPECT_EQ(t.num_rows, 4);
  EXPECT_EQ(t.At(1, 0, 0.f), 1.f);
  EXPECT_EQ(t.At(1, 2, 0.f), 4.f);
  EXPECT_EQ(t.At(2, 1, -7.f), -7.f);
  const SparseRows back = Transpose(t);
  EXPECT_EQ(back.offsets, m.offsets);
  EXPECT_EQ(back.columns, m.columns);
  EXPECT_EQ(back.values, m.values);
}

}  // namespace
}  // namespace gcl::clustering

#include "clustering/dbscan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "clustering/k_reciprocal.h"
#include "tests/clustering/test_data.h"

namespace gcl::clustering {
namespace {

using Dense = std::vector<std::vector<float>>;

Dense Densify(const SparseRows& m) {
  Dense d(m.num_rows, std::vector<float>(m.num_cols, kAbsentJaccardDistance));
  for (int64_t i = 0; i < m.num_rows; ++i) {
    for (int64_t e = m.offsets[i]; e < m.offsets[i + 1]; ++e) d[i][m.columns[e]] = m.values[e];
  }
  return d;
}

// Textbook DBSCAN (Ester et al. 1996) on a dense matrix: points start unvisited, noise can later become border.
std::vector<int64_t> TextbookDbscan(const Dense& d, double eps, int min_samples) {
  const int64_t n = static_cast<int64_t>(d.size());
  constexpr int64_t kUnvisited = -2, kNoise = -1;
  std::vector<int64_t> label(n, kUnvisited);
  const auto region = [&](int64_t p) {
    std::vector<int64_t> r;
    for (int64_t q = 0; q < n; ++q) {
      if (d[p][q] <= eps) r.push_back(q);  // sklearn on a precomputed matrix: the diagonal is data.
    }
    return r;
  };
  int64_t c = -1;
  for (int64_t p = 0; p < n; ++p) {
    if (label[p] != kUnvisited) continue;
    std::vector<int64_t> nb = region(p);
    if (static_cast<int64_t>(nb.size()) < min_samples) {
      label[p] = kNoise;
      continue;
    }
    label[p] = ++c;
    std::deque<int64_t> seeds(nb.begin(), nb.end());
    while (!seeds.empty()) {
      const int64_t q = seeds.front();
      seeds.pop_front();
      if (label[q] == kNoise) label[q] = c;
      if (label[q] != kUnvisited) continue;
      label[q] = c;
      const std::vector<int64_t> nq = region(q);
      if (static_cast<int64_t>(nq.size()) >= min_samples) seeds.insert(seeds.end(), nq.begin(), nq.end());
    }
  }
  return label;
}

// Labels equal up to a renumbering of the clusters; outliers must be the same points.
void ExpectSamePartition(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  ASSERT_EQ(a.size(), b.size());
  std::map<int64_t, int64_t> ab, ba;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i] < 0, b[i] < 0) << "point " << i;
    if (a[i] < 0) continue;
    const auto [it, fresh] = ab.emplace(a[i], b[i]);
    ASSERT_EQ(it->second, b[i]) << "point " << i;
    const auto [jt, fresh2] = ba.emplace(b[i], a[i]);
    ASSERT_EQ(jt->second, a[i]) << "point " << i;
  }
}

// np.triu(d, 1), keep non-zero, sort, mean of the first round(rho * count).
double DenseEps(const Dense& d, double rho) {
  std::vector<double> v;
  for (size_t i = 0; i < d.size(); ++i) {
    for (size_t j = i + 1; j < d.size(); ++j) {
      if (d[i][j] != 0.0f) v.push_back(d[i][j]);
    }
  }
  std::sort(v.begin(), v.end());
  const int64_t take = static_cast<int64_t>(std::nearbyint(rho * v.size()));
  double sum = 0;
  for (int64_t t = 0; t < take; ++t) sum += v[t];
  return sum / take;
}

SparseRows JaccardOf(int n, int dim, int centers, double spread, uint32_t seed) {
  const std::vector<float> x = testing::ClusteredUnitVectors(n, dim, centers, spread, seed);
  JaccardParams p;
  p.k1 = 30;
  p.k2 = 6;
  return KReciprocalJaccard(x.data(), n, dim, testing::NaiveKnn(x, n, dim, 30), p);
}

TEST(Dbscan, MatchesTextbookOnJaccardDistances) {
  const SparseRows j = JaccardOf(700, 32, 45, 0.12, 11);
  const Dense d = Densify(j);
  for (const double rho : {0.002, 0.0012, 0.01, 0.05}) {
    const double eps = EpsFromRho(j, rho);
    EXPECT_NEAR(eps, DenseEps(d, rho), 1e-6) << "rho " << rho;
    const std::vector<int64_t> got = Dbscan(j, eps, 4);
    ExpectSamePartition(got, TextbookDbscan(d, eps, 4));
    const int64_t clusters = *std::max_element(got.begin(), got.end()) + 1;
    EXPECT_GT(clusters, 5) << "rho " << rho;  // The case must be non-trivial.
  }
  for (const double eps : {0.3, 0.5, 0.6, 0.9}) ExpectSamePartition(Dbscan(j, eps, 4), TextbookDbscan(d, eps, 4));
}

TEST(Dbscan, MatchesTextbookOnRandomSparseGraphsWithBorderConflicts) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 120;
    Dense d(n, std::vector<float>(n, kAbsentJaccardDistance));
    for (int i = 0; i < n; ++i) {
      d[i][i] = 0.f;
      for (int j = i + 1; j < n; ++j) {
        if (u(rng) < 0.05f) d[i][j] = d[j][i] = u(rng);
      }
    }
    SparseRows m;
    m.num_rows = m.num_cols = n;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        if (d[i][j] != kAbsentJaccardDistance) {
          m.columns.push_back(j);
          m.values.push_back(d[i][j]);
        }
      }
      m.offsets.push_back(m.nnz());
    }
    for (const int min_samples : {2, 3, 4}) {
      const double eps = 0.3 + 0.02 * trial;
      const std::vector<int64_t> got = Dbscan(m, eps, min_samples);
      const std::vector<int64_t> want = TextbookDbscan(d, eps, min_samples);
      // Border points reachable from two clusters go to the cluster expanded first in both.
      ExpectSamePartition(got, want);
    }
    const double rho = 0.001 * (trial + 1);
    EXPECT_NEAR(EpsFromRho(m, rho), DenseEps(d, rho), 1e-6);
  }
}

TEST(EpsFromRho, PadsWithAbsentPairsWhenTheFractionReachesThem) {
  // 4 points, one stored pair (0, 1) at 0.2 and a stored zero pair (2, 3); the other 4 pairs are absent (1).
  SparseRows m;
  m.num_rows = m.num_cols = 4;
  m.offsets = {0, 2, 4, 6, 8};
  m.columns = {0, 1, 0, 1, 2, 3, 2, 3};
  m.values = {0.f, 0.2f, 0.2f, 0.f, 0.f, 0.f, 0.f, 0.f};
  // Non-zero upper pairs: 0.2 and four 1s (count 5). rho 0.4 -> round(2.0) = 2 -> (0.2 + 1) / 2.
  EXPECT_NEAR(EpsFromRho(m, 0.4), 0.6, 1e-7);  // 0.2f is not exactly 0.2.
  // rho 0.5 -> round(2.5) = 2 (half to even).
  EXPECT_NEAR(EpsFromRho(m, 0.5), 0.6, 1e-7);
  EXPECT_NEAR(EpsFromRho(m, 0.2), 0.2, 1e-7);
  EXPECT_THROW(EpsFromRho(m, 0.05), std::invalid_argument);  // round(0.25) = 0 pairs.
  EXPECT_THROW(EpsFromRho(m, 0.0), std::invalid_argument);
}

TEST(Dbscan, EpsAtLeastOneMakesEveryPairNeighbours) {
  SparseRows m;
  m.num_rows = m.num_cols = 5;
  m.offsets = {0, 1, 2, 3, 4, 5};
  m.columns = {0, 1, 2, 3, 4};
  m.values = {0.f, 0.f, 0.f, 0.f, 0.f};
  EXPECT_EQ(Dbscan(m, 1.0, 4), std::vector<int64_t>(5, 0));
  EXPECT_EQ(Dbscan(m, 0.99, 4), std::vector<int64_t>(5, -1));
  EXPECT_EQ(Dbscan(m, 1.0, 6), std::vector<int64_t>(5, -1));
  EXPECT_THROW(Dbscan(m, std::nan(""), 4), std::invalid_argument);
  EXPECT_THROW(Dbscan(m, 0.5, 0), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::clustering

// Shared helpers for the clustering tests: clustered unit vectors and a naive double-precision kNN.
#ifndef GCL_TESTS_CLUSTERING_TEST_DATA_H_
#define GCL_TESTS_CLUSTERING_TEST_DATA_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "clustering/knn_graph.h"

namespace gcl::clustering::testing {

// n unit vectors in `dim` dimensions around `centers` random centres (Gaussian noise of std `spread` per
// coordinate, then normalised), row-major. centre_of (optional) receives each row's centre.
inline std::vector<float> ClusteredUnitVectors(int64_t n, int64_t dim, int centers, double spread, uint32_t seed,
                                               std::vector<int>* centre_of = nullptr) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::vector<double> c(static_cast<size_t>(centers) * dim);
  for (double& v : c) v = gauss(rng);
  for (int k = 0; k < centers; ++k) {
    double norm = 0;
    for (int64_t d = 0; d < dim; ++d) norm += c[k * dim + d] * c[k * dim + d];
    for (int64_t d = 0; d < dim; ++d) c[k * dim + d] /= std::sqrt(norm);
  }
  std::vector<float> x(static_cast<size_t>(n) * dim);
  if (centre_of != nullptr) centre_of->assign(n, 0);
  std::uniform_int_distribution<int> pick(0, centers - 1);
  for (int64_t i = 0; i < n; ++i) {
    const int k = pick(rng);
    if (centre_of != nullptr) (*centre_of)[i] = k;
    std::vector<double> row(dim);
    double norm = 0;
    for (int64_t d = 0; d < dim; ++d) {
      row[d] = c[k * dim + d] + spread * gauss(rng);
      norm += row[d] * row[d];
    }
    for (int64_t d = 0; d < dim; ++d) x[i * dim + d] = static_cast<float>(row[d] / std::sqrt(norm));
  }
  return x;
}

inline double Dot(const float* a, const float* b, int64_t dim) {
  double s = 0;
  for (int64_t d = 0; d < dim; ++d) s += static_cast<double>(a[d]) * b[d];
  return s;
}

// Squared Euclidean distance in double precision.
inline double SquaredDistance(const float* a, const float* b, int64_t dim) {
  double s = 0;
  for (int64_t d = 0; d < dim; ++d) s += (static_cast<double>(a[d]) - b[d]) * (static_cast<double>(a[d]) - b[d]);
  return s;
}

// Exact kNN by full sorting of double-precision distances (ties by index).
inline KnnGraph NaiveKnn(const std::vector<float>& x, int64_t n, int64_t dim, int k) {
  KnnGraph g;
  g.num_rows = n;
  g.k = k;
  std::vector<double> dist(n);
  std::vector<int32_t> order(n);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) dist[j] = SquaredDistance(&x[i * dim], &x[j * dim], dim);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return dist[a] < dist[b]; });
    for (int r = 0; r < k; ++r) {
      g.indices.push_back(order[r]);
      g.distances.push_back(static_cast<float>(dist[order[r]]));
    }
    g.max_distances.push_back(static_cast<float>(*std::max_element(dist.begin(), dist.end())));
  }
  return g;
}

}  // namespace gcl::clustering::testing

#endif  // GCL_TESTS_CLUSTERING_TEST_DATA_H_

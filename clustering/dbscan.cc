#include "clustering/dbscan.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gcl::clustering {

double EpsFromRho(const SparseRows& distances, double rho) {
  if (!(rho > 0.0 && rho <= 1.0)) throw std::invalid_argument("EpsFromRho: rho must be in (0, 1], got " + std::to_string(rho));
  const int64_t n = distances.num_rows;
  std::vector<float> stored;  // Non-zero stored values with i < j.
  int64_t stored_upper = 0;   // All stored entries with i < j (zero or not).
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t e = distances.offsets[i]; e < distances.offsets[i + 1]; ++e) {
      if (distances.columns[e] <= i) continue;
      ++stored_upper;
      if (distances.values[e] != 0.0f) stored.push_back(distances.values[e]);
    }
  }
  const int64_t upper_pairs = n * (n - 1) / 2;
  const int64_t absent = upper_pairs - stored_upper;  // Each exactly 1: non-zero.
  const int64_t count = static_cast<int64_t>(stored.size()) + absent;
  const int64_t take = static_cast<int64_t>(std::nearbyint(rho * static_cast<double>(count)));
  if (take <= 0) {
    throw std::invalid_argument("EpsFromRho: round(rho * count) = round(" + std::to_string(rho) + " * " +
                                std::to_string(count) + ") is 0; rho is too small for " + std::to_string(n) +
                                " samples");
  }
  const int64_t from_stored = std::min<int64_t>(take, static_cast<int64_t>(stored.size()));
  std::nth_element(stored.begin(), stored.begin() + (from_stored > 0 ? from_stored - 1 : 0), stored.end());
  double sum = 0.0;
  for (int64_t t = 0; t < from_stored; ++t) sum += stored[t];
  sum += static_cast<double>(take - from_stored) * kAbsentJaccardDistance;
  return sum / static_cast<double>(take);
}

std::vector<int64_t> Dbscan(const SparseRows& distances, double eps, int min_samples) {
  if (min_samples < 1) throw std::invalid_argument("Dbscan: min_samples must be >= 1");
  if (!std::isfinite(eps) || eps < 0.0) throw std::invalid_argument("Dbscan: eps must be finite and >= 0");
  if (distances.num_rows != distances.num_cols) throw std::invalid_argument("Dbscan: distance matrix is not square");
  const int64_t n = distances.num_rows;
  std::vector<int64_t> labels(n, -1);
  if (static_cast<double>(kAbsentJaccardDistance) <= eps) {
    // Every pair is within eps: each point has n neighbours, so all are core points of one cluster, or none is.
    if (n >= min_samples) std::fill(labels.begin(), labels.end(), 0);
    return labels;
  }
  const auto within = [&](int64_t e) { return static_cast<double>(distances.values[e]) <= eps; };
  std::vector<char> core(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t neighbours = 0;
    // The diagonal is an entry like any other (a Jaccard matrix stores d(i, i) ~ 0, so i is its own neighbour).
    for (int64_t e = distances.offsets[i]; e < distances.offsets[i + 1]; ++e) neighbours += within(e) ? 1 : 0;
    core[i] = neighbours >= min_samples ? 1 : 0;
  }
  // sklearn's dbscan_inner: a depth-first expansion from each unlabelled core point in index order.
  int64_t next_label = 0;
  std::vector<int64_t> stack;
  for (int64_t seed = 0; seed < n; ++seed) {
    if (labels[seed] != -1 || !core[seed]) continue;
    stack.assign(1, seed);
    while (!stack.empty()) {
      const int64_t i = stack.back();
      stack.pop_back();
      if (labels[i] != -1) continue;
      labels[i] = next_label;
      if (!core[i]) continue;
      for (int64_t e = distances.offsets[i]; e < distances.offsets[i + 1]; ++e) {
        if (within(e) && labels[distances.columns[e]] == -1) stack.push_back(distances.columns[e]);
      }
    }
    ++next_label;
  }
  return labels;
}

}  // namespace gcl::clustering

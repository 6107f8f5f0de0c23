#include "clustering/label_quality.h"

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace gcl::clustering {
namespace {

int64_t Pairs(int64_t n) { return n * (n - 1) / 2; }

}  // namespace

LabelQuality PairwiseLabelQuality(const std::vector<int64_t>& pseudo, const std::vector<int64_t>& truth) {
  if (pseudo.size() != truth.size()) {
    throw std::invalid_argument("PairwiseLabelQuality: " + std::to_string(pseudo.size()) + " pseudo labels for " +
                                std::to_string(truth.size()) + " true identities");
  }
  // Contingency counts: a pair is predicted and true exactly when both samples share a (cluster, identity) cell.
  std::map<int64_t, int64_t> cluster_sizes, identity_sizes;
  std::map<std::pair<int64_t, int64_t>, int64_t> cells;
  int64_t clustered = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0) {
      throw std::invalid_argument("PairwiseLabelQuality: sample " + std::to_string(i) + " has true identity " +
                                  std::to_string(truth[i]));
    }
    ++identity_sizes[truth[i]];
    if (pseudo[i] < 0) continue;
    ++clustered;
    ++cluster_sizes[pseudo[i]];
    ++cells[{pseudo[i], truth[i]}];
  }
  LabelQuality q;
  int64_t both = 0;
  for (const auto& [cell, n] : cells) both += Pairs(n);
  for (const auto& [label, n] : cluster_sizes) q.predicted_pairs += Pairs(n);
  for (const auto& [id, n] : identity_sizes) q.true_pairs += Pairs(n);
  const double nan = std::nan("");
  q.precision = q.predicted_pairs > 0 ? static_cast<double>(both) / q.predicted_pairs : nan;
  q.recall = q.true_pairs > 0 ? static_cast<double>(both) / q.true_pairs : nan;
  q.f1 = std::isnan(q.precision) || std::isnan(q.recall) || q.precision + q.recall == 0
             ? (q.precision == 0 || q.recall == 0 ? 0.0 : nan)
             : 2 * q.precision * q.recall / (q.precision + q.recall);
  q.clustered_fraction = truth.empty() ? nan : static_cast<double>(clustered) / truth.size();
  return q;
}

}  // namespace gcl::clustering

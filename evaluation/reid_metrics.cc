#include "evaluation/reid_metrics.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/parallel_for.h"

namespace gcl::evaluation {

double ReidMetrics::Rank(int r) const {
  if (cmc.empty() || r < 1) return 0.0;
  return cmc[std::min<size_t>(static_cast<size_t>(r), cmc.size()) - 1];
}

QueryScore ScoreQuery(const float* distances, int64_t query_pid, int64_t query_camid, const ReidLabels& gallery,
                      const ReidMetricOptions& options) {
  const int64_t n = gallery.size();
  const auto valid = [&](int64_t j) {
    if (options.ignore_junk && gallery.pids[j] == options.junk_pid) return false;
    return !(gallery.pids[j] == query_pid && gallery.camids[j] == query_camid);
  };
  // Matches sorted by (distance, index): the stable ranking order.
  std::vector<std::pair<float, int64_t>> matches;
  for (int64_t j = 0; j < n; ++j) {
    if (gallery.pids[j] == query_pid && valid(j)) matches.emplace_back(distances[j], j);
  }
  QueryScore s;
  if (matches.empty()) return s;
  s.valid = true;
  std::sort(matches.begin(), matches.end());
  const int64_t m = static_cast<int64_t>(matches.size());

  // Distinct match distances (sklearn thresholds that move recall) with their multiplicities.
  std::vector<float> levels;
  std::vector<int64_t> level_matches;
  for (const auto& [d, j] : matches) {
    if (levels.empty() || levels.back() != d) {
      levels.push_back(d);
      level_matches.push_back(0);
    }
    ++level_matches.back();
  }
  std::vector<int64_t> non_matches_at(levels.size() + 1, 0);
  const std::pair<float, int64_t> first = matches.front();
  const std::pair<float, int64_t> last = matches.back();
  int64_t before_first = 0;
  int64_t before_last = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (!valid(j)) continue;
    const std::pair<float, int64_t> key(distances[j], j);
    if (key < last) ++before_last;
    if (gallery.pids[j] == query_pid) continue;
    if (key < first) ++before_first;
    // A non-match at distance d lowers the precision of every level >= d.
    ++non_matches_at[std::lower_bound(levels.begin(), levels.end(), distances[j]) - levels.begin()];
  }
  int64_t tp = 0;
  int64_t fp = 0;
  for (size_t l = 0; l < levels.size(); ++l) {
    tp += level_matches[l];
    fp += non_matches_at[l];
    s.ap += static_cast<double>(level_matches[l]) / m * (static_cast<double>(tp) / static_cast<double>(tp + fp));
  }
  s.first_match = before_first;
  s.inp = static_cast<double>(m) / static_cast<double>(before_last + 1);
  return s;
}

MetricAccumulator::MetricAccumulator(const ReidMetricOptions& options)
    : options_(options), first_match_hist_(std::max(1, options.max_rank), 0) {}

void MetricAccumulator::Add(const QueryScore& score) {
  ++queries_;
  if (!score.valid) return;
  ++valid_;
  ap_sum_ += score.ap;
  inp_sum_ += score.inp;
  if (score.first_match < static_cast<int64_t>(first_match_hist_.size())) ++first_match_hist_[score.first_match];
}

ReidMetrics MetricAccumulator::Finish() const {
  if (valid_ == 0) {
    throw std::runtime_error("ReID evaluation: none of the " + std::to_string(queries_) +
                             " queries has a valid match in the gallery (same pid in another camera)");
  }
  ReidMetrics r;
  r.num_queries = queries_;
  r.num_valid_queries = valid_;
  r.num_skipped_queries = queries_ - valid_;
  r.map = ap_sum_ / valid_;
  r.minp = inp_sum_ / valid_;
  int64_t hits = 0;
  for (const int64_t h : first_match_hist_) {
    hits += h;
    r.cmc.push_back(static_cast<double>(hits) / valid_);
  }
  return r;
}

ReidMetrics EvaluateDistanceMatrix(const float* distances, const ReidLabels& query, const ReidLabels& gallery,
                                   const ReidMetricOptions& options, int num_threads) {
  if (query.pids.size() != query.camids.size() || gallery.pids.size() != gallery.camids.size()) {
    throw std::invalid_argument("EvaluateDistanceMatrix: pids and camids differ in length");
  }
  const int64_t nq = query.size();
  if (nq == 0) throw std::invalid_argument("EvaluateDistanceMatrix: no queries");
  std::vector<QueryScore> scores(nq);
  ParallelFor(nq, num_threads, 16, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; ++i) {
      scores[i] = ScoreQuery(distances + i * gallery.size(), query.pids[i], query.camids[i], gallery, options);
    }
  });
  MetricAccumulator acc(options);
  for (const QueryScore& s : scores) acc.Add(s);
  return acc.Finish();
}

}  // namespace gcl::evaluation

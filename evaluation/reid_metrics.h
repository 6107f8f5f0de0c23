// Person re-identification metrics from a query x gallery distance matrix (reference §8, open-reid evaluators):
// mAP, CMC (Market-1501 protocol) and mINP.
//
// Per query, gallery items with the same pid AND the same camera are ignored, and so are junk items
// (pid == junk_pid, -1 on Market-1501, when ignore_junk). Queries left without a valid true match are skipped and
// counted in num_skipped_queries.
//  - AP is sklearn's average_precision_score(matches, -distance) over the remaining items: tied distances form
//    one threshold, so a tie between a match and a non-match counts both at once.
//  - CMC: first_match_break; ranks follow a stable sort by (distance, gallery index). rank-k accuracy is the
//    fraction of valid queries whose first match is within the top k.
//  - mINP (Ye et al., TPAMI 2021): mean over valid queries of #matches / (position of the last match + 1).
//
//   ReidMetrics m = EvaluateDistanceMatrix(dist.data(), nq, ng, query_labels, gallery_labels);
//   m.map, m.Rank(1), m.minp
#ifndef GCL_EVALUATION_REID_METRICS_H_
#define GCL_EVALUATION_REID_METRICS_H_

#include <cstdint>
#include <vector>

namespace gcl::evaluation {

// Identities and cameras of one image set, index-aligned with its feature rows.
struct ReidLabels {
  std::vector<int64_t> pids;
  std::vector<int64_t> camids;
  int64_t size() const { return static_cast<int64_t>(pids.size()); }
};

struct ReidMetricOptions {
  bool ignore_junk = true;  // Market-1501 junk (pid -1); the reference loader drops these images (§9).
  int64_t junk_pid = -1;
  int max_rank = 100;       // CMC curve length (the reference computes topk up to 100).
};

struct QueryScore {
  bool valid = false;       // false: no valid true match, skipped.
  double ap = 0;
  int64_t first_match = 0;  // 0-based position of the first true match among valid items.
  double inp = 0;
};

struct ReidMetrics {
  double map = 0;
  double minp = 0;
  std::vector<double> cmc;  // cmc[r - 1] = rank-r accuracy, r = 1..max_rank.
  int64_t num_queries = 0;
  int64_t num_valid_queries = 0;
  int64_t num_skipped_queries = 0;

  // rank-r accuracy; ranks beyond max_rank read the last value.
  double Rank(int r) const;
};

// Scores one query from its distances to all gallery items.
QueryScore ScoreQuery(const float* distances, int64_t query_pid, int64_t query_camid, const ReidLabels& gallery,
                      const ReidMetricOptions& options = {});

// Sums query scores into metrics; Add from one thread at a time.
class MetricAccumulator {
 public:
  explicit MetricAccumulator(const ReidMetricOptions& options = {});
  void Add(const QueryScore& score);
  // Throws std::runtime_error when no query has a valid match (the metrics would be 0 / 0).
  ReidMetrics Finish() const;

 private:
  ReidMetricOptions options_;
  std::vector<int64_t> first_match_hist_;
  double ap_sum_ = 0;
  double inp_sum_ = 0;
  int64_t queries_ = 0;
  int64_t valid_ = 0;
};

// Row-major num_query x num_gallery distances; threads <= 0: one per hardware thread.
ReidMetrics EvaluateDistanceMatrix(const float* distances, const ReidLabels& query, const ReidLabels& gallery,
                                   const ReidMetricOptions& options = {}, int num_threads = 0);

}  // namespace gcl::evaluation

#endif  // GCL_EVALUATION_REID_METRICS_H_

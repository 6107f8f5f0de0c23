#include "evaluation/reid_metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

namespace gcl::evaluation {
namespace {

// Query pid 1, camera 0 throughout.
constexpr int64_t kPid = 1;
constexpr int64_t kCam = 0;

TEST(ScoreQuery, HandCheckedWithSameCameraAndJunkIgnored) {
  // g0 match 0.1 | g1 other 0.2 | g2 match 0.3 | g3 same pid+cam 0.05 (ignored) | g4 junk 0.01 (ignored)
  const ReidLabels gallery{{1, 2, 1, 1, -1}, {1, 1, 2, 0, 1}};
  const std::vector<float> d = {0.1f, 0.2f, 0.3f, 0.05f, 0.01f};
  const QueryScore s = ScoreQuery(d.data(), kPid, kCam, gallery);
  ASSERT_TRUE(s.valid);
  EXPECT_NEAR(s.ap, (1.0 + 2.0 / 3.0) / 2.0, 1e-12);  // Matches at positions 1 and 3.
  EXPECT_EQ(s.first_match, 0);
  EXPECT_NEAR(s.inp, 2.0 / 3.0, 1e-12);  // Last match at position 3.

  ReidMetricOptions keep_junk;
  keep_junk.ignore_junk = false;  // Junk becomes a non-match ranked first.
  const QueryScore k = ScoreQuery(d.data(), kPid, kCam, gallery, keep_junk);
  EXPECT_NEAR(k.ap, (1.0 / 2.0 + 2.0 / 4.0) / 2.0, 1e-12);
  EXPECT_EQ(k.first_match, 1);
  EXPECT_NEAR(k.inp, 2.0 / 4.0, 1e-12);
}

TEST(ScoreQuery, TiesFollowSklearnAndStableRanking) {
  // A match and a non-match tie at 0.5, another match at 0.7. sklearn's thresholds: at 0.5 tp 1, fp 1
  // (precision 1/2, recall 1/2); at 0.7 tp 2, fp 1 (precision 2/3). AP = 1/2 * 1/2 + 1/2 * 2/3.
  const double expected_ap = 0.25 + 1.0 / 3.0;
  const std::vector<float> d = {0.5f, 0.5f, 0.7f};
  const QueryScore match_first = ScoreQuery(d.data(), kPid, kCam, ReidLabels{{1, 2, 1}, {1, 1, 1}});
  EXPECT_NEAR(match_first.ap, expected_ap, 1e-12);
  EXPECT_EQ(match_first.first_match, 0);  // Stable order: the lower gallery index first.
  const QueryScore match_second = ScoreQuery(d.data(), kPid, kCam, ReidLabels{{2, 1, 1}, {1, 1, 1}});
  EXPECT_NEAR(match_second.ap, expected_ap, 1e-12);
  EXPECT_EQ(match_second.first_match, 1);
  EXPECT_NEAR(match_second.inp, 2.0 / 3.0, 1e-12);

  // Two tied matches: one threshold moves recall from 0 to 1 at precision 2/3.
  const std::vector<float> two = {0.4f, 0.4f, 0.2f};
  EXPECT_NEAR(ScoreQuery(two.data(), kPid, kCam, ReidLabels{{1, 1, 3}, {1, 2, 1}}).ap, 2.0 / 3.0, 1e-12);
}

TEST(ScoreQuery, NoValidMatchIsInvalid) {
  const std::vector<float> d = {0.1f, 0.2f};
  EXPECT_FALSE(ScoreQuery(d.data(), kPid, kCam, ReidLabels{{1, 2}, {0, 1}}).valid);  // Match only in own camera.
  EXPECT_FALSE(ScoreQuery(d.data(), -1, kCam, ReidLabels{{-1, 2}, {1, 1}}).valid);   // Junk query.
}

TEST(EvaluateDistanceMatrix, AveragesOverValidQueriesAndCountsSkipped) {
  const ReidLabels gallery{{1, 2, 1, 2}, {1, 1, 2, 0}};
  const ReidLabels query{{1, 2, 3}, {0, 1, 0}};  // pid 3 has no match: skipped.
  const std::vector<float> d = {
      0.3f, 0.1f, 0.2f, 0.9f,  // q0 (pid 1): ranks g1 x, g2 ok, g0 ok -> AP (1/2 + 2/3) / 2, first match 1.
      0.1f, 0.2f, 0.3f, 0.4f,  // q1 (pid 2, cam 1): g1 same cam ignored; g0 x, g2 x, g3 ok -> AP 1/3, first 2.
      0.1f, 0.1f, 0.1f, 0.1f,  // q2: skipped.
  };
  ReidMetricOptions options;
  options.max_rank = 5;
  const ReidMetrics m = EvaluateDistanceMatrix(d.data(), query, gallery, options, 2);
  EXPECT_EQ(m.num_queries, 3);
  EXPECT_EQ(m.num_valid_queries, 2);
  EXPECT_EQ(m.num_skipped_queries, 1);
  EXPECT_NEAR(m.map, ((0.5 + 2.0 / 3.0) / 2.0 + 1.0 / 3.0) / 2.0, 1e-12);
  EXPECT_NEAR(m.Rank(1), 0.0, 1e-12);
  EXPECT_NEAR(m.Rank(2), 0.5, 1e-12);
  EXPECT_NEAR(m.Rank(3), 1.0, 1e-12);
  EXPECT_NEAR(m.Rank(20), 1.0, 1e-12);  // Beyond max_rank reads the last value.
  EXPECT_NEAR(m.minp, (2.0 / 3.0 + 1.0 / 3.0) / 2.0, 1e-12);
}

TEST(EvaluateDistanceMatrix, ThrowsWhenNoQueryIsValid) {
  const std::vector<float> d = {0.1f};
  EXPECT_THROW(EvaluateDistanceMatrix(d.data(), ReidLabels{{1}, {0}}, ReidLabels{{2}, {1}}), std::runtime_error);
  EXPECT_THROW(EvaluateDistanceMatrix(d.data(), ReidLabels{{}, {}}, ReidLabels{{2}, {1}}), std::invalid_argument);
}

// sklearn's average_precision_score transcribed: sort by score descending, one threshold per distinct score,
// AP = sum over thresholds of (recall step) x precision. Also the position-based CMC and INP from a stable sort.
QueryScore Naive(const std::vector<float>& d, int64_t pid, int64_t cam, const ReidLabels& g) {
  std::vector<int64_t> order;
  for (int64_t j = 0; j < g.size(); ++j) {
    if (g.pids[j] == -1 || (g.pids[j] == pid && g.camids[j] == cam)) continue;
    order.push_back(j);
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return d[a] < d[b]; });
  QueryScore s;
  int64_t m = 0;
  for (const int64_t j : order) m += g.pids[j] == pid;
  if (m == 0) return s;
  s.valid = true;
  int64_t tp = 0, seen = 0, last = -1;
  bool first = true;
  double recall_before = 0;
  for (size_t a = 0; a < order.size();) {
    size_t b = a;
    while (b < order.size() && d[order[b]] == d[order[a]]) {
      if (g.pids[order[b]] == pid) {
        ++tp;
        if (first) s.first_match = static_cast<int64_t>(b);
        first = false;
        last = static_cast<int64_t>(b);
      }
      ++b;
    }
    seen = static_cast<int64_t>(b);
    const double recall = static_cast<double>(tp) / m;
    s.ap += (recall - recall_before) * static_cast<double>(tp) / seen;
    recall_before = recall;
    a = b;
  }
  s.inp = static_cast<double>(m) / (last + 1);
  return s;
}

TEST(ScoreQuery, MatchesNaiveSklearnTranscriptionOnRandomTiedData) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> pid(-1, 6), cam(0, 3), level(0, 9);
  for (int trial = 0; trial < 300; ++trial) {
    ReidLabels g;
    std::vector<float> d;
    for (int j = 0; j < 40; ++j) {
      g.pids.push_back(pid(rng));
      g.camids.push_back(cam(rng));
      d.push_back(0.1f * level(rng));  // Ten levels: many ties.
    }
    const int64_t qp = 1 + trial % 6, qc = trial % 4;
    const QueryScore got = ScoreQuery(d.data(), qp, qc, g);
    const QueryScore want = Naive(d, qp, qc, g);
    ASSERT_EQ(got.valid, want.valid);
    if (!want.valid) continue;
    EXPECT_NEAR(got.ap, want.ap, 1e-12) << "trial " << trial;
    EXPECT_EQ(got.first_match, want.first_match) << "trial " << trial;
    EXPECT_NEAR(got.inp, want.inp, 1e-12) << "trial " << trial;
  }
}

}  // namespace
}  // namespace gcl::evaluation

#include "evaluation/hist_matcher.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace gcl::evaluation {
namespace {

// The baseline's ranking metrics are the project's (evaluation/reid_metrics.h); these tests pin them to a naive
// reference on the (pid, camera) samples the histogram matcher evaluates.
struct ReidSample {
  int pid = 0;
  int camera = 0;
};

struct RankingMetrics {
  double mean_ap = 0.0;
  std::vector<double> cmc;
  int64_t num_valid_queries = 0;
};

RankingMetrics EvaluateRanking(const std::vector<float>& distance, const std::vector<ReidSample>& query,
                               const std::vector<ReidSample>& gallery, int max_rank) {
  evaluation::ReidLabels q, g;
  for (const ReidSample& s : query) q.pids.push_back(s.pid), q.camids.push_back(s.camera);
  for (const ReidSample& s : gallery) g.pids.push_back(s.pid), g.camids.push_back(s.camera);
  evaluation::ReidMetricOptions options;
  options.max_rank = max_rank;
  const evaluation::ReidMetrics m = evaluation::EvaluateDistanceMatrix(distance.data(), q, g, options, 1);
  return {m.map, m.cmc, m.num_valid_queries};
}

// Naive double-precision reference: sklearn's average_precision_score as the sum over the precision-recall
// curve, sum_n (R_n - R_{n-1}) P_n, on the gallery left after dropping same pid + same camera.
double ReferenceAp(const std::vector<double>& dist, const ReidSample& q, const std::vector<ReidSample>& gallery,
                   int* first_match_rank) {
  std::vector<std::pair<double, bool>> ranked;
  for (size_t g = 0; g < gallery.size(); ++g) {
    if (gallery[g].pid == q.pid && gallery[g].camera == q.camera) continue;
    ranked.push_back({dist[g], gallery[g].pid == q.pid});
  }
  std::sort(ranked.begin(), ranked.end());
  const double positives = std::count_if(ranked.begin(), ranked.end(), [](const auto& r) { return r.second; });
  if (positives == 0) return -1.0;
  double ap = 0.0, previous_recall = 0.0, hits = 0.0;
  *first_match_rank = -1;
  for (size_t n = 0; n < ranked.size(); ++n) {
    if (!ranked[n].second) continue;
    hits += 1.0;
    if (*first_match_rank < 0) *first_match_rank = static_cast<int>(n);
    const double recall = hits / positives, precision = hits / (n + 1.0);
    ap += (recall - previous_recall) * precision;
    previous_recall = recall;
  }
  return ap;
}

TEST(EvaluateRankingTest, HandWorkedExample) {
  // Gallery ranked by distance: [pid1 cam2 (match), pid2, pid1 cam1 (same cam: ignored), pid1 cam3 (match)].
  const std::vector<ReidSample> query = {{1, 1}};
  const std::vector<ReidSample> gallery = {{1, 2}, {2, 2}, {1, 1}, {1, 3}};
  const std::vector<float> distance = {0.1f, 0.2f, 0.3f, 0.4f};
  const RankingMetrics m = EvaluateRanking(distance, query, gallery, 3);
  // Valid list: match, non-match, match -> AP = (1/1 + 2/3) / 2.
  EXPECT_NEAR(m.mean_ap, (1.0 + 2.0 / 3.0) / 2.0, 1e-12);
  EXPECT_EQ(m.num_valid_queries, 1);
  EXPECT_DOUBLE_EQ(m.cmc[0], 1.0);
}

TEST(EvaluateRankingTest, SameCameraMatchesAreIgnoredForCmc) {
  const std::vector<ReidSample> query = {{1, 1}};
  const std::vector<ReidSample> gallery = {{1, 1}, {2, 2}, {1, 2}};
  const RankingMetrics m = EvaluateRanking({0.f, 0.5f, 0.7f}, query, gallery, 3);
  EXPECT_DOUBLE_EQ(m.cmc[0], 0.0);  // the same-camera copy does not count
  EXPECT_DOUBLE_EQ(m.cmc[1], 1.0);
  EXPECT_NEAR(m.mean_ap, 0.5, 1e-12);
}

TEST(EvaluateRankingTest, QueriesWithoutValidMatchAreSkipped) {
  const std::vector<ReidSample> query = {{1, 1}, {3, 1}};
  const std::vector<ReidSample> gallery = {{1, 2}, {3, 1}};  // pid 3 only in its own camera
  const RankingMetrics m = EvaluateRanking({0.1f, 0.2f, 0.1f, 0.2f}, query, gallery, 1);
  EXPECT_EQ(m.num_valid_queries, 1);
  EXPECT_DOUBLE_EQ(m.mean_ap, 1.0);
}

TEST(EvaluateRankingTest, MatchesNaiveReferenceOnRandomData) {
  std::mt19937 gen(3);
  std::uniform_int_distribution<int> pid(1, 12), cam(1, 4);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<ReidSample> query(40), gallery(300);
  for (auto& s : query) s = {pid(gen), cam(gen)};
  for (auto& s : gallery) s = {pid(gen), cam(gen)};
  std::vector<float> distance(query.size() * gallery.size());
  for (auto& d : distance) d = static_cast<float>(unit(gen));
  const int max_rank = 10;
  const RankingMetrics m = EvaluateRanking(distance, query, gallery, max_rank);

  double ap_sum = 0.0;
  int valid = 0;
  std::vector<double> cmc(max_rank, 0.0);
  for (size_t q = 0; q < query.size(); ++q) {
    std::vector<double> row(distance.begin() + q * gallery.size(), distance.begin() + (q + 1) * gallery.size());
    int first = -1;
    const double ap = ReferenceAp(row, query[q], gallery, &first);
    if (ap < 0.0) continue;
    ++valid;
    ap_sum += ap;
    for (int k = first; k < max_rank; ++k) cmc[k] += 1.0;
  }
  ASSERT_EQ(m.num_valid_queries, valid);
  EXPECT_NEAR(m.mean_ap, ap_sum / valid, 1e-9);
  for (int k = 0; k < max_rank; ++k) EXPECT_NEAR(m.cmc[k], cmc[k] / valid, 1e-12) << k;
}

TEST(ColourHistogramFeatureTest, SeparatesColoursAndIgnoresSmallChanges) {
  const cv::Mat red(128, 64, CV_8UC3, cv::Scalar(30, 30, 200));
  cv::Mat red_shifted = red.clone();
  red_shifted += cv::Scalar(3, 3, 3);
  const cv::Mat blue(128, 64, CV_8UC3, cv::Scalar(200, 40, 30));
  for (const HistogramDescriptor& d : NamedHistogramDescriptors()) {
    SCOPED_TRACE(d.name);
    const auto f_red = ColourHistogramFeature(red, d);
    ASSERT_EQ(f_red.size(), static_cast<size_t>(d.stripes * d.BinsPerStripe()));
    EXPECT_NEAR(HistogramDistance(f_red, ColourHistogramFeature(red_shifted, d)), 0.f, 1e-6f);
    // Disjoint histograms in all 6 stripes: each stripe contributes sqrt(2)^2.
    EXPECT_NEAR(HistogramDistance(f_red, ColourHistogramFeature(blue, d)), std::sqrt(12.f), 1e-4f);
    double norm = 0.0;
    for (float v : f_red) norm += v * v;
    EXPECT_NEAR(norm, 6.0, 1e-4);  // each stripe is a unit vector after the square root
  }
}

// The distance is the Bhattacharyya (Hellinger) distance: |sqrt(p) - sqrt(q)|^2 = sum over stripes of
// 2 - 2 BC(p_s, q_s), with BC the Bhattacharyya coefficient of the stripe histograms counted by hand.
TEST(ColourHistogramFeatureTest, DistanceIsBhattacharyyaOfHandCountedStripes) {
  const HistogramDescriptor d = HistogramDescriptorByName("hsv16x4x4_half");
  // Two colours side by side inside the central half (columns 16..47): HSV of pure red (0, 255, 255) falls in
  // hue bin 0, saturation bin 3, value bin 3; pure green (60, 255, 255) in hue bin 5.
  cv::Mat a(60, 64, CV_8UC3, cv::Scalar(255, 255, 255)), b;
  a(cv::Rect(16, 0, 16, 60)).setTo(cv::Scalar(0, 0, 255));
  a(cv::Rect(32, 0, 16, 60)).setTo(cv::Scalar(0, 255, 0));
  b = a.clone();
  b(cv::Rect(32, 0, 8, 60)).setTo(cv::Scalar(0, 0, 255));  // b: 3/4 red, 1/4 green in every stripe
  // The white outside the central half is not counted, so a stripe of a is (1/2 red, 1/2 green).
  const double bc = std::sqrt(0.5 * 0.75) + std::sqrt(0.5 * 0.25);
  const double expected = std::sqrt(6 * (2 - 2 * bc));
  EXPECT_NEAR(HistogramDistance(ColourHistogramFeature(a, d), ColourHistogramFeature(b, d)), expected, 1e-5);
  // Over the whole crop the white columns count too, and every stripe has white in both images.
  const HistogramDescriptor whole = HistogramDescriptorByName("hsv16x4x4_whole");
  EXPECT_LT(HistogramDistance(ColourHistogramFeature(a, whole), ColourHistogramFeature(b, whole)), expected);
}

TEST(ColourHistogramFeatureTest, RejectsWrongImageTypeAndUnknownNames) {
  const HistogramDescriptor d = NamedHistogramDescriptors().front();
  EXPECT_THROW(ColourHistogramFeature(cv::Mat(8, 8, CV_8UC1), d), std::invalid_argument);
  HistogramDescriptor broken = d;
  broken.central_fraction = 0.0;
  EXPECT_THROW(ColourHistogramFeature(cv::Mat(8, 8, CV_8UC3), broken), std::invalid_argument);
  EXPECT_THROW(HistogramDescriptorByName("rgb"), std::invalid_argument);
}

TEST(EvaluateHistogramBaselineTest, RanksTheSameColouredPersonFirst) {
  const std::filesystem::path root = std::filesystem::path(testing::TempDir()) / "hist_baseline_dataset";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "query");
  std::filesystem::create_directories(root / "bounding_box_test");
  auto person = [](cv::Scalar top, cv::Scalar bottom) {
    cv::Mat image(128, 64, CV_8UC3, cv::Scalar(128, 128, 128));
    cv::rectangle(image, cv::Rect(16, 20, 32, 44), top, cv::FILLED);
    cv::rectangle(image, cv::Rect(16, 64, 32, 60), bottom, cv::FILLED);
    return image;
  };
  ASSERT_TRUE(cv::imwrite((root / "query/0001_c1s1_000010_00.jpg").string(), person({0, 0, 200}, {200, 0, 0})));
  ASSERT_TRUE(cv::imwrite((root / "query/0002_c1s1_000020_00.jpg").string(), person({0, 200, 0}, {0, 0, 0})));
  ASSERT_TRUE(
      cv::imwrite((root / "bounding_box_test/0001_c2s1_000030_00.jpg").string(), person({0, 0, 190}, {190, 0, 0})));
  ASSERT_TRUE(
      cv::imwrite((root / "bounding_box_test/0002_c2s1_000040_00.jpg").string(), person({0, 190, 0}, {5, 5, 5})));
  ASSERT_TRUE(cv::imwrite((root / "bounding_box_test/0000_c2s1_000050_00.jpg").string(),
                          cv::Mat(128, 64, CV_8UC3, cv::Scalar(0, 200, 200))));
  for (const HistogramDescriptor& d : NamedHistogramDescriptors()) {
    SCOPED_TRACE(d.name);
    const evaluation::ReidMetrics m = EvaluateHistogramBaseline(root.string(), d);
    EXPECT_EQ(m.num_valid_queries, 2);
    EXPECT_DOUBLE_EQ(m.map, 1.0);
    EXPECT_DOUBLE_EQ(m.Rank(1), 1.0);
  }
  EXPECT_THROW(EvaluateHistogramBaseline((root / "missing").string(), NamedHistogramDescriptors().front()),
               std::runtime_error);
}

}  // namespace
}  // namespace gcl::evaluation

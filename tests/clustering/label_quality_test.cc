#include "clustering/label_quality.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

namespace gcl::clustering {
namespace {

// The definition, pair by pair.
LabelQuality NaiveQuality(const std::vector<int64_t>& pseudo, const std::vector<int64_t>& truth) {
  int64_t predicted = 0, real = 0, both = 0, clustered = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    clustered += pseudo[i] >= 0;
    for (size_t j = i + 1; j < truth.size(); ++j) {
      const bool same_cluster = pseudo[i] >= 0 && pseudo[i] == pseudo[j];
      const bool same_id = truth[i] == truth[j];
      predicted += same_cluster;
      real += same_id;
      both += same_cluster && same_id;
    }
  }
  LabelQuality q;
  q.predicted_pairs = predicted;
  q.true_pairs = real;
  q.precision = static_cast<double>(both) / predicted;
  q.recall = static_cast<double>(both) / real;
  q.f1 = 2 * q.precision * q.recall / (q.precision + q.recall);
  q.clustered_fraction = static_cast<double>(clustered) / truth.size();
  return q;
}

TEST(LabelQualityTest, HandComputedExample) {
  // Identities 0 0 0 1 1; clusters {0,1,3} and {2}; sample 4 an outlier.
  const LabelQuality q = PairwiseLabelQuality({5, 5, 7, 5, -1}, {0, 0, 0, 1, 1});
  EXPECT_EQ(q.predicted_pairs, 3);  // (0,1) (0,3) (1,3)
  EXPECT_EQ(q.true_pairs, 4);       // (0,1) (0,2) (1,2) (3,4)
  EXPECT_DOUBLE_EQ(q.precision, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(q.recall, 1.0 / 4.0);
  EXPECT_DOUBLE_EQ(q.f1, 2 * (1.0 / 3) * (1.0 / 4) / (1.0 / 3 + 1.0 / 4));
  EXPECT_DOUBLE_EQ(q.clustered_fraction, 4.0 / 5.0);
}

TEST(LabelQualityTest, PerfectClusteringScoresOne) {
  const LabelQuality q = PairwiseLabelQuality({3, 3, 9, 9, 9}, {0, 0, 1, 1, 1});
  EXPECT_DOUBLE_EQ(q.precision, 1.0);
  EXPECT_DOUBLE_EQ(q.recall, 1.0);
  EXPECT_DOUBLE_EQ(q.f1, 1.0);
}

TEST(LabelQualityTest, AllOutliersHaveNoPrecisionAndZeroRecall) {
  const LabelQuality q = PairwiseLabelQuality({-1, -1, -1}, {0, 0, 1});
  EXPECT_TRUE(std::isnan(q.precision));
  EXPECT_DOUBLE_EQ(q.recall, 0.0);
  EXPECT_DOUBLE_EQ(q.f1, 0.0);
  EXPECT_DOUBLE_EQ(q.clustered_fraction, 0.0);
}

TEST(LabelQualityTest, EqualsThePairByPairDefinitionOnRandomLabels) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    const int n = 50 + trial * 7;
    std::vector<int64_t> pseudo(n), truth(n);
    for (int i = 0; i < n; ++i) {
      truth[i] = static_cast<int64_t>(rng() % 9);
      pseudo[i] = static_cast<int64_t>(rng() % 8) - 2;  // about a quarter outliers
    }
    const LabelQuality fast = PairwiseLabelQuality(pseudo, truth);
    const LabelQuality naive = NaiveQuality(pseudo, truth);
    EXPECT_EQ(fast.predicted_pairs, naive.predicted_pairs);
    EXPECT_EQ(fast.true_pairs, naive.true_pairs);
    EXPECT_DOUBLE_EQ(fast.precision, naive.precision);
    EXPECT_DOUBLE_EQ(fast.recall, naive.recall);
    EXPECT_DOUBLE_EQ(fast.f1, naive.f1);
    EXPECT_DOUBLE_EQ(fast.clustered_fraction, naive.clustered_fraction);
  }
}

TEST(LabelQualityTest, BadInputIsRefusedWithTheProblem) {
  try {
    PairwiseLabelQuality({0, 1}, {0});
    FAIL() << "size mismatch accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2 pseudo labels for 1 true identities"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PairwiseLabelQuality({0, 1}, {0, -3}), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::clustering

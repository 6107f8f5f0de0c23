#include "data/pipeline/samplers.h"

#include <algorithm>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace gcl::data {
namespace {

std::vector<Sample> Clustered(int n) {
  std::vector<Sample> s;
  for (int i = 0; i < n; ++i) s.push_back({3 * i + 1, i % 5});  // e.g. non-outlier rows with pseudo labels
  return s;
}

TEST(ShuffledBatches, DropLastAndPermutation) {
  const std::vector<Sample> samples = Clustered(37);
  const auto batches = ShuffledBatches(samples, 16, /*seed=*/1, /*epoch=*/0);
  ASSERT_EQ(batches.size(), 2u);  // floor(37 / 16), as iters/epoch in the reference (§6)
  std::set<int64_t> seen;
  for (const auto& b : batches) {
    ASSERT_EQ(b.size(), 16u);
    for (const Sample& s : b) {
      EXPECT_TRUE(seen.insert(s.index).second);
      EXPECT_EQ(s.label, ((s.index - 1) / 3) % 5);  // labels travel with their index
    }
  }
}

TEST(ShuffledBatches, DeterministicPerSeedAndEpoch) {
  const std::vector<Sample> samples = Clustered(64);
  EXPECT_EQ(ShuffledBatches(samples, 8, 3, 2), ShuffledBatches(samples, 8, 3, 2));
  EXPECT_NE(ShuffledBatches(samples, 8, 3, 2), ShuffledBatches(samples, 8, 3, 3));
  EXPECT_NE(ShuffledBatches(samples, 8, 3, 2), ShuffledBatches(samples, 8, 4, 2));
  // Every sample comes first about equally often over many epochs (a fair shuffle).
  std::vector<int> first(64, 0);
  for (uint64_t e = 0; e < 6400; ++e) first[(ShuffledBatches(samples, 8, 1, e)[0][0].index - 1) / 3]++;
  EXPECT_GT(*std::min_element(first.begin(), first.end()), 60);
  EXPECT_LT(*std::max_element(first.begin(), first.end()), 145);
}

TEST(SequentialBatches, KeepsOrderAndTail) {
  const std::vector<Sample> samples = Clustered(10);
  const auto batches = SequentialBatches(samples, 4);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].size(), 2u);
  std::vector<Sample> flat;
  for (const auto& b : batches) flat.insert(flat.end(), b.begin(), b.end());
  EXPECT_EQ(flat, samples);
  EXPECT_TRUE(SequentialBatches({}, 4).empty());
  EXPECT_THROW(SequentialBatches(samples, 0), std::invalid_argument);
  EXPECT_THROW(ShuffledBatches(samples, -1, 1, 1), std::invalid_argument);
}

TEST(SamplesOf, RecordsInOrder) {
  ReidSplit split;
  for (int i = 0; i < 3; ++i) {
    ImageRecord r;
    r.index = i;
    r.label = 2 - i;
    split.records.push_back(r);
  }
  const std::vector<Sample> s = SamplesOf(split);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], (Sample{1, 1}));
}

}  // namespace
}  // namespace gcl::data

#include "clustering/knn.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "tests/clustering/test_data.h"

namespace gcl::clustering {
namespace {

at::Tensor ToTensor(const std::vector<float>& x, int64_t rows, int64_t dim) {
  return at::from_blob(const_cast<float*>(x.data()), {rows, dim}, at::kFloat).clone();
}

TEST(ExactKnn, SelfKnnMatchesNaiveAcrossBlocks) {
  const int64_t n = 301, dim = 24;
  const std::vector<float> x = testing::ClusteredUnitVectors(n, dim, 20, 0.2, 1);
  const KnnGraph want = testing::NaiveKnn(x, n, dim, 30);
  KnnOptions options;
  options.block_rows = 64;  // Five blocks, the last partial.
  const KnnGraph got = ExactKnn(ToTensor(x, n, dim), ToTensor(x, n, dim), 30, options);
  ASSERT_EQ(got.num_rows, n);
  ASSERT_EQ(got.k, 30);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(got.row(i)[0], i);  // Self first.
    EXPECT_NEAR(got.max_distances[i], want.max_distances[i], 1e-5);
    for (int r = 0; r < 30; ++r) {
      EXPECT_EQ(got.row(i)[r], want.row(i)[r]) << "row " << i << " rank " << r;
      EXPECT_NEAR(got.distances[i * 30 + r], want.distances[i * 30 + r], 1e-5);
    }
  }
}

TEST(ExactKnn, QueryAgainstBaseWithoutUnitNorm) {
  std::vector<float> base = testing::ClusteredUnitVectors(50, 8, 5, 0.3, 2);
  for (size_t t = 0; t < base.size(); ++t) base[t] *= 1.0f + 0.01f * static_cast<float>(t % 7);
  const std::vector<float> query(base.begin(), base.begin() + 10 * 8);
  const KnnGraph got = ExactKnn(ToTensor(query, 10, 8), ToTensor(base, 50, 8), 5);
  for (int64_t i = 0; i < 10; ++i) {
    std::vector<std::pair<double, int>> d;
    for (int j = 0; j < 50; ++j) d.emplace_back(testing::SquaredDistance(&query[i * 8], &base[j * 8], 8), j);
    std::sort(d.begin(), d.end());
    for (int r = 0; r < 5; ++r) {
      EXPECT_EQ(got.row(i)[r], d[r].second);
      EXPECT_NEAR(got.distances[i * 5 + r], d[r].first, 1e-5);
    }
  }
}

TEST(ExactKnn, RejectsBadArguments) {
  const at::Tensor x = at::randn({10, 4});
  EXPECT_THROW(ExactKnn(x, x, 0), std::invalid_argument);
  EXPECT_THROW(ExactKnn(x, x, 11), std::invalid_argument);
  EXPECT_THROW(ExactKnn(x, at::randn({10, 5}), 3), std::invalid_argument);
  EXPECT_THROW(ExactKnn(x.to(at::kDouble), x, 3), std::invalid_argument);
  EXPECT_THROW(ExactKnn(x.view({40}), x, 3), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::clustering

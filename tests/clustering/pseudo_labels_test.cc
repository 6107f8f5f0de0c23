#include "clustering/pseudo_labels.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <stdexcept>
#include <vector>

#include "clustering/dbscan.h"
#include "clustering/k_reciprocal.h"
#include "tests/clustering/test_data.h"

namespace gcl::clustering {
namespace {

TEST(PseudoLabels, PipelineEqualsItsStepsAndRecoversSeparatedIdentities) {
  const int64_t n = 800, dim = 32;
  std::vector<int> identity;
  const std::vector<float> unit = testing::ClusteredUnitVectors(n, dim, 20, 0.08, 9, &identity);
  const at::Tensor t = at::from_blob(const_cast<float*>(unit.data()), {n, dim}, at::kFloat).clone();
  PseudoLabelOptions options;
  options.num_threads = 2;
  // 20 identities: 5% of all pairs are same-identity pairs, so rho must be of that order (the reference's
  // 0.002 suits Market's 751 identities, where the fraction is 0.13%).
  options.rho = 0.03;
  const PseudoLabels p = ComputePseudoLabels(t, options);

  // Same result from the steps run on a naive kNN graph over the same float32 rows the pipeline sees (after
  // its L2 normalisation). Whether a near-duplicate pair's distance is exactly 0, and so is left out of the rho
  // rule, depends on the last bit of the features, as in the reference.
  const at::Tensor normalised = (t / t.norm(2, 1, true).clamp_min(1e-12)).contiguous();
  const std::vector<float> x(normalised.data_ptr<float>(), normalised.data_ptr<float>() + n * dim);
  JaccardParams jp;
  const SparseRows j = KReciprocalJaccard(x.data(), n, dim, testing::NaiveKnn(x, n, dim, 30), jp);
  EXPECT_EQ(p.stats.eps, EpsFromRho(j, 0.03));
  EXPECT_EQ(p.labels, Dbscan(j, EpsFromRho(j, 0.03), 4));

  // A fixed eps (GCL-extended rule) recovers the 20 well separated identities of ~40 images exactly.
  options.eps_rule = EpsRule::kFixed;
  options.fixed_eps = 0.55;
  const PseudoLabels fixed = ComputePseudoLabels(t, options);
  EXPECT_EQ(fixed.stats.eps, 0.55);
  EXPECT_EQ(fixed.labels, Dbscan(j, 0.55, 4));
  std::map<int64_t, int> identity_of_cluster;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_GE(fixed.labels[i], 0);
    const auto [it, fresh] = identity_of_cluster.emplace(fixed.labels[i], identity[i]);
    EXPECT_EQ(it->second, identity[i]) << "cluster " << fixed.labels[i] << " mixes identities";
  }
  EXPECT_EQ(fixed.stats.num_clusters, 20);
  EXPECT_EQ(fixed.stats.num_outliers, 0);
  EXPECT_NE(FormatStats(fixed.stats).find("clusters 20  outliers 0"), std::string::npos);

  // Statistics agree with the labels.
  for (const PseudoLabels* r : {&p, &fixed}) {
    int64_t clustered = 0, clusters = 0;
    for (const auto& [size, count] : r->stats.cluster_size_histogram) {
      clustered += size * count;
      clusters += count;
    }
    EXPECT_EQ(clusters, r->stats.num_clusters);
    EXPECT_EQ(clustered + r->stats.num_outliers, n);
    EXPECT_EQ(r->stats.jaccard_nonzeros, j.nnz());
    EXPECT_GE(r->stats.total_seconds, r->stats.knn_seconds);
  }
}

TEST(PseudoLabels, RejectsBadInput) {
  EXPECT_THROW(ComputePseudoLabels(at::randn({30, 8})), std::invalid_argument);  // N <= k1.
  EXPECT_THROW(ComputePseudoLabels(at::randn({100})), std::invalid_argument);
  at::Tensor nan = at::randn({100, 8});
  nan[3][1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(ComputePseudoLabels(nan), std::invalid_argument);
  PseudoLabelOptions options;
  options.k2 = 31;
  EXPECT_THROW(ComputePseudoLabels(at::randn({100, 8}), options), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::clustering

// The library backends of the runtime (training/bank_cluster_backends.h): the memory bank over losses::MemoryBank and
// losses::SampleContrast, clustering over clustering::ComputePseudoLabels, and the worker's "cluster" job.
#include "training/bank_cluster_backends.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>
#include <string>
#include <vector>

#include "actors/validate.h"
#include "clustering/pseudo_labels.h"
#include "losses/view_contrast.h"
#include "proto/tensor_codec.h"

namespace gcl::training {
namespace {

using actors::CheckTensorShape;
using actors::kActorProtocolVersion;
using actors::ValidatePseudoLabels;

proto::BankSnapshot Bank(const torch::Tensor& features, const std::vector<int64_t>& labels) {
  proto::BankSnapshot s;
  s.set_version(kActorProtocolVersion);
  *s.mutable_features() = proto::EncodeTensor(features);
  for (int64_t l : labels) s.add_labels(l);
  return s;
}

// Three tight, far-apart blobs of 20 unit vectors in 8-d.
torch::Tensor Blobs() {
  torch::manual_seed(3);
  std::vector<torch::Tensor> parts;
  for (int c = 0; c < 3; ++c) {
    torch::Tensor centre = torch::zeros({8});
    centre[c * 2] = 1;
    parts.push_back(centre.unsqueeze(0) + 0.05 * torch::randn({20, 8}));
  }
  return torch::nn::functional::normalize(torch::cat(parts), torch::nn::functional::NormalizeFuncOptions().dim(1));
}

TEST(GclBackendsTest, BankSamplesPositivesAndNegativesByLabelAndReturnsTheirRows) {
  const torch::Tensor features = Blobs();
  std::vector<int64_t> labels(60);
  for (int i = 0; i < 60; ++i) labels[i] = i < 55 ? i / 20 : -1;  // five outliers
  auto bank = MakeMemoryBankBackend(5);
  bank->Reset(Bank(features, labels));
  EXPECT_EQ(bank->rows(), 60);
  EXPECT_EQ(bank->dim(), 8);
  proto::ContrastRequest request;
  for (int64_t i : {0, 21, 45}) request.add_indices(i);
  request.set_num_negatives(10);
  const proto::ContrastRows rows = bank->Sample(request);
  const int64_t u = rows.rows_size();
  EXPECT_EQ(CheckTensorShape("rows", rows.features(), proto::DTYPE_FLOAT32, {u, 8}), "");
  const torch::Tensor gathered = *proto::DecodeTensor(rows.features());
  std::set<int64_t> distinct(rows.rows().begin(), rows.rows().end());
  EXPECT_EQ(static_cast<int64_t>(distinct.size()), u);
  ASSERT_EQ(rows.negatives_size(), 3 * 10);
  for (int b = 0; b < 3; ++b) {
    const int64_t anchor = request.indices(b);
    EXPECT_EQ(rows.rows(rows.instance(b)), anchor);
    EXPECT_EQ(labels[rows.rows(rows.positive_generated(b))], labels[anchor]);
    EXPECT_EQ(labels[rows.rows(rows.positive_original(b))], labels[anchor]);
    std::set<int64_t> negatives;
    for (int k = 0; k < 10; ++k) {
      const int64_t row = rows.rows(rows.negatives(b * 10 + k));
      EXPECT_NE(labels[row], labels[anchor]);
      negatives.insert(row);
    }
    EXPECT_EQ(negatives.size(), 10u) << "negatives are drawn without replacement";
  }
  // The rows are the bank's own (its features are the input re-normalised, reference §5).
  const torch::Tensor bank_features = *proto::DecodeTensor(bank->Snapshot().features());
  EXPECT_TRUE(torch::allclose(bank_features, features, /*rtol=*/0, /*atol=*/1e-6));
  for (int64_t p = 0; p < u; ++p) {
    EXPECT_TRUE(torch::equal(gathered[p], bank_features[rows.rows(p)])) << "row " << rows.rows(p);
  }
}

TEST(GclBackendsTest, UpdateIsTheLossesMomentumUpdateAndRngStateReplays) {
  const torch::Tensor features = Blobs();
  std::vector<int64_t> labels(60);
  for (int i = 0; i < 60; ++i) labels[i] = i / 20;
  auto bank = MakeMemoryBankBackend(9);
  bank->Reset(Bank(features, labels));
  const torch::Tensor fresh = torch::nn::functional::normalize(
      torch::randn({2, 8}), torch::nn::functional::NormalizeFuncOptions().dim(1));
  proto::FeatureUpdate update;
  update.set_version(kActorProtocolVersion);
  update.add_indices(4);
  update.add_indices(40);
  *update.mutable_features() = proto::EncodeTensor(fresh);
  bank->Update(update, 0.2);
  losses::MemoryBank reference(features, torch::tensor(labels));
  reference.Update(torch::tensor(std::vector<int64_t>{4, 40}), fresh, 0.2);
  EXPECT_TRUE(torch::equal(*proto::DecodeTensor(bank->Snapshot().features()), reference.features()));

  proto::ContrastRequest request;
  request.add_indices(7);
  request.set_num_negatives(30);
  const std::string state = bank->SaveRng();
  const std::string first = bank->Sample(request).SerializeAsString();
  EXPECT_NE(bank->Sample(request).SerializeAsString(), first);  // the stream moved on
  bank->RestoreRng(state);
  EXPECT_EQ(bank->Sample(request).SerializeAsString(), first);

  // Restore takes a saved bank bit for bit (Reset normalises again, which may move a unit row by an ulp).
  const proto::BankSnapshot saved = bank->Snapshot();
  auto restored = MakeMemoryBankBackend(9);
  restored->Restore(saved);
  EXPECT_EQ(restored->Snapshot().SerializeAsString(), saved.SerializeAsString());
}

TEST(GclBackendsTest, ClusterFnAndClusterJobGiveTheLibrarysLabels) {
  const torch::Tensor features = Blobs();
  proto::RunConfig config;
  config.set_k1(10);
  config.set_k2(3);
  config.set_min_samples(4);
  config.set_rho(0.05);
  clustering::PseudoLabelOptions options;
  options.k1 = 10;
  options.k2 = 3;
  options.min_samples = 4;
  options.rho = 0.05;
  const clustering::PseudoLabels direct = clustering::ComputePseudoLabels(features, options);
  const proto::PseudoLabels labels = MakeClusterFn(1)(Bank(features, {}), config);
  EXPECT_EQ(std::vector<int64_t>(labels.labels().begin(), labels.labels().end()), direct.labels);
  EXPECT_EQ(labels.num_clusters(), direct.stats.num_clusters);
  EXPECT_EQ(labels.num_outliers(), direct.stats.num_outliers);
  EXPECT_EQ(ValidatePseudoLabels(labels, 60), "");

  proto::ClusterJob job;
  job.set_version(kActorProtocolVersion);
  *job.mutable_bank() = Bank(features, {});
  *job.mutable_config() = config;
  proto::PseudoLabels from_job;
  ASSERT_TRUE(from_job.ParseFromString(RunClusterJob(job.SerializeAsString(), 1)));
  EXPECT_EQ(std::vector<int64_t>(from_job.labels().begin(), from_job.labels().end()), direct.labels);
  EXPECT_THROW(RunClusterJob("not a protobuf \xff\xff"), std::runtime_error);
  job.mutable_bank()->mutable_features()->mutable_data()->resize(5);
  try {
    RunClusterJob(job.SerializeAsString(), 1);
    ADD_FAILURE() << "a truncated bank was clustered";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("BankSnapshot.features"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gcl::training

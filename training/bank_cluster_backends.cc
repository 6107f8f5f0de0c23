#include "training/bank_cluster_backends.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstring>
#include <stdexcept>
#include <utility>

#include "actors/run_config.h"
#include "actors/validate.h"
#include "clustering/pseudo_labels.h"
#include "losses/view_contrast.h"
#include "proto/tensor_codec.h"

namespace gcl::training {

using actors::BankBackend;
using actors::CheckVersion;
using actors::ClusterFn;
using actors::kActorProtocolVersion;
using actors::ValidateBankSnapshot;

namespace {

template <class Repeated>
torch::Tensor Int64Tensor(const Repeated& values) {
  return torch::tensor(std::vector<int64_t>(values.begin(), values.end()), torch::kInt64);
}

class LibraryBank : public BankBackend {
 public:
  explicit LibraryBank(uint64_t seed) : rng_(at::make_generator<at::CPUGeneratorImpl>(seed)) {}

  int64_t rows() const override { return bank_ ? bank_->size() : 0; }
  int64_t dim() const override { return bank_ ? bank_->dim() : 0; }

  void Reset(const proto::BankSnapshot& snapshot) override {
    torch::Tensor labels;
    const torch::Tensor features = Decode(snapshot, &labels);
    bank_ = std::make_unique<losses::MemoryBank>(features, labels);
  }

  void Restore(const proto::BankSnapshot& snapshot) override {
    torch::Tensor labels;
    const torch::Tensor features = Decode(snapshot, &labels);
    bank_ = std::make_unique<losses::MemoryBank>(losses::MemoryBank::FromSaved(features, labels));
  }

  void SetLabels(const proto::PseudoLabels& labels) override { bank_->SetLabels(Int64Tensor(labels.labels())); }

  void Update(const proto::FeatureUpdate& update, double momentum) override {
    bank_->Update(Int64Tensor(update.indices()),
                  proto::DecodeTensorOrThrow(update.features(), "FeatureUpdate.features"), momentum);
  }

  proto::BankSnapshot Snapshot() const override {
    proto::BankSnapshot snapshot;
    snapshot.set_version(kActorProtocolVersion);
    proto::EncodeTensor(bank_->features(), snapshot.mutable_features());
    const torch::Tensor labels = bank_->labels().contiguous();
    const int64_t* data = labels.data_ptr<int64_t>();
    snapshot.mutable_labels()->Add(data, data + labels.numel());
    return snapshot;
  }

  proto::ContrastRows Sample(const proto::ContrastRequest& request) override {
    const torch::Tensor anchors = Int64Tensor(request.indices());
    const losses::ContrastSample sample = losses::SampleContrast(bank_->labels(), anchors,
                                                                 request.num_negatives(), rng_);
    const int64_t b = anchors.size(0);
    // Distinct rows and, for every role, positions into them.
    const torch::Tensor all = torch::cat({anchors, sample.positive_generated, sample.positive_original,
                                          sample.negatives.reshape({-1})});
    auto [unique, inverse, counts] = at::_unique2(all, /*sorted=*/true, /*return_inverse=*/true);
    (void)counts;
    proto::ContrastRows rows;
    rows.set_version(kActorProtocolVersion);
    const torch::Tensor u = unique.contiguous();
    rows.mutable_rows()->Add(u.data_ptr<int64_t>(), u.data_ptr<int64_t>() + u.numel());
    proto::EncodeTensor(bank_->features().index_select(0, u.to(bank_->features().device())),
                        rows.mutable_features());
    const torch::Tensor inv = inverse.contiguous();
    const int64_t* p = inv.data_ptr<int64_t>();
    rows.mutable_instance()->Add(p, p + b);
    rows.mutable_positive_generated()->Add(p + b, p + 2 * b);
    rows.mutable_positive_original()->Add(p + 2 * b, p + 3 * b);
    rows.mutable_negatives()->Add(p + 3 * b, p + inv.numel());
    return rows;
  }

  std::string SaveRng() const override {
    const torch::Tensor state = rng_.get_state().contiguous();
    return std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()), state.numel());
  }

  void RestoreRng(const std::string& state) override {
    torch::Tensor bytes = torch::empty({static_cast<int64_t>(state.size())}, torch::kUInt8);
    std::memcpy(bytes.data_ptr<uint8_t>(), state.data(), state.size());
    rng_.set_state(bytes);
  }

 private:
  static torch::Tensor Decode(const proto::BankSnapshot& snapshot, torch::Tensor* labels) {
    torch::Tensor features = proto::DecodeTensorOrThrow(snapshot.features(), "BankSnapshot.features");
    *labels = snapshot.labels_size() > 0 ? Int64Tensor(snapshot.labels())
                                         : torch::full({features.size(0)}, -1, torch::kInt64);
    return features;
  }

  std::unique_ptr<losses::MemoryBank> bank_;
  torch::Generator rng_;
};

proto::PseudoLabels Cluster(const proto::BankSnapshot& bank, const proto::RunConfig& config, int num_threads) {
  const clustering::PseudoLabels result = clustering::ComputePseudoLabels(
      proto::DecodeTensorOrThrow(bank.features(), "BankSnapshot.features"), PseudoLabelOptionsOf(config, num_threads));
  proto::PseudoLabels labels;
  labels.set_version(kActorProtocolVersion);
  labels.set_epoch(bank.epoch());
  labels.mutable_labels()->Add(result.labels.begin(), result.labels.end());
  labels.set_num_clusters(static_cast<int32_t>(result.stats.num_clusters));
  labels.set_num_outliers(static_cast<int32_t>(result.stats.num_outliers));
  labels.set_eps(result.stats.eps);
  labels.set_seconds(result.stats.total_seconds);
  return labels;
}

}  // namespace

clustering::PseudoLabelOptions PseudoLabelOptionsOf(const proto::RunConfig& run, int num_threads) {
  clustering::PseudoLabelOptions options;
  if (run.k1() > 0) options.k1 = run.k1();
  if (run.k2() > 0) options.k2 = run.k2();
  if (run.min_samples() > 0) options.min_samples = run.min_samples();
  if (run.rho() > 0) options.rho = run.rho();
  options.num_threads = num_threads;
  return options;
}

std::unique_ptr<BankBackend> MakeMemoryBankBackend(uint64_t seed) { return std::make_unique<LibraryBank>(seed); }

ClusterFn MakeClusterFn(int num_threads) {
  return [num_threads](const proto::BankSnapshot& bank, const proto::RunConfig& config) {
    return Cluster(bank, config, num_threads);
  };
}

std::string RunClusterJob(const std::string& payload, int num_threads) {
  proto::ClusterJob job;
  if (!job.ParseFromString(payload)) throw std::runtime_error("cluster job: payload is not a gcl.proto.ClusterJob");
  if (std::string p = CheckVersion("ClusterJob", job.version()); !p.empty()) throw std::runtime_error(p);
  if (std::string p = ValidateBankSnapshot(job.bank()); !p.empty()) throw std::runtime_error(p);
  return Cluster(job.bank(), job.config(), num_threads).SerializeAsString();
}

void AddClusterJob(int num_threads, actors::JobRegistry* registry) {
  (*registry)["cluster"] = [num_threads](const std::string& payload) { return RunClusterJob(payload, num_threads); };
}

}  // namespace gcl::training

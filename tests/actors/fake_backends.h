// Small deterministic implementations of the runtime's backend interfaces (actors/backends.h), so the actor
// tests exercise real message flow, real state and real arithmetic in microseconds, without LibTorch.
//
// - ToySource: N samples of a tiny H x W image whose pixels are a pure function of (index, seed); chosen
//   indices throw like a corrupt JPEG would.
// - ToyTrainer: a linear "encoder" w (D x 3): feature(i) = normalize(w * mean-colour(i)); a step moves w by the
//   batch's mean image colours (no autograd, but state that depends on every batch and its order), reports a
//   loss, and in the joint phase returns the batch's features as the memory update. Can throw at a chosen step.
// - ToyBank: the reference's momentum update m <- normalize(a*m + (1-a)*f) in double precision, and sampling of
//   positives/negatives by label with its own mt19937_64.
// - ToyCluster: labels by the sign pattern of the first two feature columns (a function of the bank), optionally
//   throwing for the first `failures` calls.
#ifndef GCL_TESTS_ACTORS_FAKE_BACKENDS_H_
#define GCL_TESTS_ACTORS_FAKE_BACKENDS_H_

#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/backends.h"
#include "actors/validate.h"

namespace gcl::actors::testing {

inline proto::Tensor FloatTensor(const std::vector<int64_t>& shape, const std::vector<float>& values) {
  proto::Tensor t;
  t.set_dtype(proto::DTYPE_FLOAT32);
  for (int64_t d : shape) t.add_shape(d);
  t.set_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return t;
}

inline std::vector<float> Floats(const proto::Tensor& t) {
  std::vector<float> values(t.data().size() / sizeof(float));
  std::memcpy(values.data(), t.data().data(), values.size() * sizeof(float));
  return values;
}

inline void Normalize(float* row, int64_t dim) {
  double norm = 0;
  for (int64_t k = 0; k < dim; ++k) norm += static_cast<double>(row[k]) * row[k];
  norm = std::sqrt(norm);
  if (norm == 0) return;
  for (int64_t k = 0; k < dim; ++k) row[k] = static_cast<float>(row[k] / norm);
}

class ToySource : public SampleSource {
 public:
  ToySource(int64_t size, std::set<int64_t> corrupt = {}, bool structure = true)
      : size_(size), corrupt_(std::move(corrupt)), structure_(structure) {}
  int64_t size() const override { return size_; }
  ImageSize image_size() const override { return {4, 2}; }
  bool has_structure() const override { return structure_; }
  void Load(int64_t index, uint64_t seed, proto::Phase, float* image, float* s_ori, float* s_new) override {
    ++loads;
    if (corrupt_.count(index)) throw std::runtime_error("toy/" + std::to_string(index) + ".jpg: corrupt JPEG");
    std::mt19937_64 rng(seed);
    for (int c = 0; c < 3; ++c) {
      for (int p = 0; p < 8; ++p) image[c * 8 + p] = static_cast<float>(std::sin(index * (c + 1) + 0.1 * p));
    }
    for (int p = 0; p < 8; ++p) {
      if (s_ori) s_ori[p] = static_cast<float>(index % 3);
      if (s_new) s_new[p] = static_cast<float>(rng() % 7);  // the "angle" drawn from the sample seed
    }
  }
  std::atomic<int64_t> loads{0};

 private:
  int64_t size_;
  std::set<int64_t> corrupt_;
  bool structure_;
};

// Mean colour of sample b in a batch.
inline std::vector<double> MeanColour(const proto::Batch& batch, int64_t b) {
  const int64_t plane = batch.images().shape(2) * batch.images().shape(3);
  const float* images = reinterpret_cast<const float*>(batch.images().data().data());
  std::vector<double> mean(3, 0.0);
  for (int c = 0; c < 3; ++c) {
    for (int64_t p = 0; p < plane; ++p) mean[c] += images[(b * 3 + c) * plane + p];
    mean[c] /= static_cast<double>(plane);
  }
  return mean;
}

class ToyTrainer : public TrainerBackend {
 public:
  static constexpr int64_t kDim = 4;
  // `train_set` provides features for extract("train"); `fail_at_step` >= 0 throws at that global step.
  ToyTrainer(std::shared_ptr<SampleSource> train_set, int64_t fail_at_step = -1)
      : source_(std::move(train_set)), fail_at_step_(fail_at_step), w_(kDim * 3) {
    for (size_t i = 0; i < w_.size(); ++i) w_[i] = static_cast<float>(std::cos(0.7 * i));
  }
  std::string device() const override { return "cpu"; }
  bool UsesContrastRows() const override { return use_contrast; }
  bool use_contrast = true;

  StepOutput Step(const proto::Batch& batch, const proto::ContrastRows& contrast) override {
    if (step_ == fail_at_step_) {
      throw std::runtime_error("CUDA out of memory (simulated c10::Error at step " + std::to_string(step_) + ")");
    }
    ++step_;
    if (on_step) on_step(step_);
    if (on_batch) on_batch(batch);
    const int64_t size = batch.indices_size();
    double loss = 0;
    StepOutput out;
    std::vector<float> features;
    for (int64_t b = 0; b < size; ++b) {
      const std::vector<double> colour = MeanColour(batch, b);
      for (int64_t k = 0; k < kDim; ++k) {
        for (int c = 0; c < 3; ++c) {
          w_[k * 3 + c] += static_cast<float>(0.01 * colour[c] * (k + 1) + 0.001 * (phase_factor(batch) + b));
        }
      }
      std::vector<float> f = Feature(colour);
      features.insert(features.end(), f.begin(), f.end());
      loss += f[0];
    }
    if (batch.phase() == proto::PHASE_JOINT) {
      if (use_contrast) {
        if (contrast.instance_size() != size) throw std::runtime_error("ToyTrainer: contrast rows missing");
        const std::vector<float> rows = Floats(contrast.features());
        double pull = 0;
        for (int64_t b = 0; b < size; ++b) pull += rows[contrast.positive_generated(b) * kDim];
        loss += pull;
      } else if (contrast.instance_size() != 0) {
        throw std::runtime_error("ToyTrainer: got contrast rows it did not ask for");
      }
      for (int64_t i : batch.indices()) out.memory_update.add_indices(i);
      *out.memory_update.mutable_features() = FloatTensor({size, kDim}, features);
    }
    out.losses["toy"] = loss / size;
    return out;
  }
  void EndEpoch(proto::Phase, int64_t) override { ++epochs_; }
  proto::Tensor ExtractFeatures(const std::string& split) override {
    const int64_t n = split == "train" ? source_->size() : (split == "query" ? 3 : 5);
    std::vector<float> all;
    std::vector<float> image(3 * 8), s(8), s2(8);
    for (int64_t i = 0; i < n; ++i) {
      source_->Load(i, 0, proto::PHASE_UNSPECIFIED, image.data(), s.data(), s2.data());
      std::vector<double> colour(3, 0.0);
      for (int c = 0; c < 3; ++c) {
        for (int p = 0; p < 8; ++p) colour[c] += image[c * 8 + p] / 8.0;
      }
      std::vector<float> f = Feature(colour);
      all.insert(all.end(), f.begin(), f.end());
    }
    proto::Tensor features = FloatTensor({n, kDim}, all);
    if (on_extract) on_extract(split, features);
    return features;
  }
  void Save(proto::Checkpoint* checkpoint) override {
    proto::ModuleState* module = checkpoint->add_networks();
    module->set_name("toy");
    proto::NamedTensor* t = module->add_tensors();
    t->set_name("w");
    *t->mutable_tensor() = FloatTensor({kDim, 3}, w_);
    proto::SchedulerState* s = checkpoint->add_schedulers();
    s->set_name("toy");
    s->set_last_epoch(epochs_);
  }
  void Restore(const proto::Checkpoint& checkpoint) override {
    for (const proto::ModuleState& m : checkpoint.networks()) {
      if (m.name() == "toy") w_ = Floats(m.tensors(0).tensor());
    }
    for (const proto::SchedulerState& s : checkpoint.schedulers()) {
      if (s.name() == "toy") epochs_ = s.last_epoch();
    }
  }
  const std::vector<float>& weights() const { return w_; }
  // Called at the start of every step with the global step count (1-based), e.g. to pace or announce steps.
  std::function<void(int64_t)> on_step;
  // Called with every batch, e.g. to see which clustering pass a joint batch names (Batch.labels_epoch).
  std::function<void(const proto::Batch&)> on_batch;
  // Called with every extraction's split and features.
  std::function<void(const std::string&, const proto::Tensor&)> on_extract;

 private:
  static double phase_factor(const proto::Batch& batch) { return static_cast<double>(batch.phase()); }
  std::vector<float> Feature(const std::vector<double>& colour) const {
    std::vector<float> f(kDim);
    for (int64_t k = 0; k < kDim; ++k) {
      double v = 0;
      for (int c = 0; c < 3; ++c) v += w_[k * 3 + c] * colour[c];
      f[k] = static_cast<float>(v);
    }
    Normalize(f.data(), kDim);
    return f;
  }
  std::shared_ptr<SampleSource> source_;
  int64_t fail_at_step_;
  int64_t step_ = 0;
  int64_t epochs_ = 0;
  std::vector<float> w_;
};

class ToyBank : public BankBackend {
 public:
  explicit ToyBank(uint64_t seed) : rng_(seed) {}
  int64_t rows() const override { return rows_; }
  int64_t dim() const override { return dim_; }
  void Reset(const proto::BankSnapshot& snapshot) override {
    rows_ = snapshot.features().shape(0);
    dim_ = snapshot.features().shape(1);
    features_ = Floats(snapshot.features());
    labels_.assign(snapshot.labels().begin(), snapshot.labels().end());
    if (labels_.empty()) labels_.assign(static_cast<size_t>(rows_), -1);
  }
  void SetLabels(const proto::PseudoLabels& labels) override {
    labels_.assign(labels.labels().begin(), labels.labels().end());
  }
  void Update(const proto::FeatureUpdate& update, double momentum) override {
    const std::vector<float> f = Floats(update.features());
    for (int b = 0; b < update.indices_size(); ++b) {
      float* m = &features_[static_cast<size_t>(update.indices(b) * dim_)];
      for (int64_t k = 0; k < dim_; ++k) {
        m[k] = static_cast<float>(momentum * m[k] + (1 - momentum) * f[static_cast<size_t>(b * dim_ + k)]);
      }
      Normalize(m, dim_);
    }
  }
  proto::BankSnapshot Snapshot() const override {
    proto::BankSnapshot s;
    s.set_version(kActorProtocolVersion);
    *s.mutable_features() = FloatTensor({rows_, dim_}, features_);
    for (int64_t l : labels_) s.add_labels(l);
    return s;
  }
  proto::ContrastRows Sample(const proto::ContrastRequest& request) override {
    ++*samples;
    proto::ContrastRows rows;
    std::unordered_map<int64_t, int64_t> position;
    std::vector<float> gathered;
    auto place = [&](int64_t row) {
      auto [it, fresh] = position.emplace(row, static_cast<int64_t>(position.size()));
      if (fresh) {
        rows.add_rows(row);
        gathered.insert(gathered.end(), features_.begin() + row * dim_, features_.begin() + (row + 1) * dim_);
      }
      return it->second;
    };
    for (int64_t anchor : request.indices()) {
      const int64_t label = labels_[static_cast<size_t>(anchor)];
      if (label < 0) throw std::runtime_error("ToyBank: anchor " + std::to_string(anchor) + " is an outlier");
      std::vector<int64_t> same, other;
      for (int64_t j = 0; j < rows_; ++j) (labels_[static_cast<size_t>(j)] == label ? same : other).push_back(j);
      if (static_cast<int64_t>(other.size()) < request.num_negatives()) {
        throw std::runtime_error("ToyBank: fewer than K negatives");
      }
      rows.add_instance(place(anchor));
      rows.add_positive_generated(place(same[rng_() % same.size()]));
      rows.add_positive_original(place(same[rng_() % same.size()]));
      for (int k = 0; k < request.num_negatives(); ++k) rows.add_negatives(place(other[rng_() % other.size()]));
    }
    *rows.mutable_features() = FloatTensor({static_cast<int64_t>(position.size()), dim_}, gathered);
    return rows;
  }
  std::string SaveRng() const override {
    std::ostringstream out;
    out << rng_;
    return out.str();
  }
  void RestoreRng(const std::string& state) override {
    std::istringstream in(state);
    in >> rng_;
  }
  // Sample() calls, shared with the test that made the bank.
  std::shared_ptr<std::atomic<int>> samples = std::make_shared<std::atomic<int>>(0);

 private:
  int64_t rows_ = 0;
  int64_t dim_ = 0;
  std::vector<float> features_;
  std::vector<int64_t> labels_;
  std::mt19937_64 rng_;
};

// Labels every row by the sign pattern of its first two columns (4 clusters at most); `calls` counts passes.
struct ToyCluster {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  int failures = 0;  // the first `failures` passes throw
  // Called with every snapshot a pass clusters.
  std::function<void(const proto::BankSnapshot&)> on_snapshot;
  proto::PseudoLabels operator()(const proto::BankSnapshot& bank, const proto::RunConfig&) const {
    if (on_snapshot) on_snapshot(bank);
    const int call = (*calls)++;
    if (call < failures) throw std::runtime_error("DBSCAN: simulated failure in pass " + std::to_string(call));
    const std::vector<float> f = Floats(bank.features());
    const int64_t dim = bank.features().shape(1);
    proto::PseudoLabels labels;
    std::set<int64_t> used;
    for (int64_t i = 0; i < bank.features().shape(0); ++i) {
      const int64_t label = (f[i * dim] >= 0 ? 1 : 0) + (f[i * dim + 1] >= 0 ? 2 : 0);
      labels.add_labels(label);
      used.insert(label);
    }
    // Compact the ids to 0..C-1 as DBSCAN's would be.
    std::vector<int64_t> map(4, -1);
    int64_t next = 0;
    for (int64_t l : used) map[l] = next++;
    for (int i = 0; i < labels.labels_size(); ++i) labels.set_labels(i, map[labels.labels(i)]);
    labels.set_num_clusters(static_cast<int32_t>(used.size()));
    return labels;
  }
};

}  // namespace gcl::actors::testing

#endif  // GCL_TESTS_ACTORS_FAKE_BACKENDS_H_

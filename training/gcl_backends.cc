#include "training/gcl_backends.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "actors/protocol.h"
#include "clustering/label_quality.h"
#include "clustering/pseudo_labels.h"
#include "common/progress_line.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "data/pipeline/batch_loader.h"
#include "data/pipeline/image_transforms.h"
#include "data/pipeline/sample_rng.h"
#include "data/synth/synthetic_world.h"
#include "evaluation/evaluation.h"
#include "evaluation/feature_extraction.h"
#include "losses/view_contrast.h"
#include "models/discriminator.h"
#include "models/generator.h"
#include "models/identity_encoder.h"
#include "models/identity_encoder_io.h"
#include "models/identity_encoder_tfjs.h"
#include "models/tfjs/bundled_models.h"
#include "models/tfjs/graph_model.h"
#include "proto/tensor_codec.h"
#include "training/bank_cluster_backends.h"
#include "training/joint_step.h"
#include "training/networks.h"
#include "training/run_folder.h"
#include "training/train_config.h"

namespace gcl::training {
namespace {

namespace fs = std::filesystem;
using actors::StepOutput;

}  // namespace

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/gcl";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return std::string(home) + "/.cache/gcl";
  return (fs::temp_directory_path() / "gcl-cache").string();
}

namespace {

torch::Tensor IndexTensor(const google::protobuf::RepeatedField<int64_t>& values) {
  return torch::tensor(std::vector<int64_t>(values.begin(), values.end()), torch::kInt64);
}

// Labels for the stage-1 warm-up: DBSCAN clusters, and every outlier its own class (SpCL's un-clustered
// instances), so that every sample of the epoch has a positive (its own memory slot at least).
torch::Tensor InstanceFilledLabels(const std::vector<int64_t>& labels, int64_t* clusters, int64_t* outliers) {
  int64_t next = 0;
  for (int64_t l : labels) next = std::max(next, l + 1);
  *clusters = next;
  *outliers = 0;
  std::vector<int64_t> out(labels);
  for (int64_t& l : out) {
    if (l < 0) {
      l = next++;
      ++*outliers;
    }
  }
  return torch::tensor(out, torch::kInt64);
}

// The train split's identities as the pseudo labels' diagnosis compares them (clustering/label_quality.h);
// empty when some train image has no identity (e.g. an unlabelled folder), then no diagnosis is logged.
std::vector<int64_t> TrueTrainIds(const data::ReidDataset& dataset) {
  std::vector<int64_t> ids;
  ids.reserve(dataset.train.records.size());
  for (const data::ImageRecord& r : dataset.train.records) {
    if (r.label < 0) return {};
    ids.push_back(r.label);
  }
  return ids;
}

// Pairwise precision / recall of a clustering pass against the true identities (never seen by training).
void AddLabelQuality(const std::vector<int64_t>& labels, const std::vector<int64_t>& truth, ClusterRecord* rec) {
  if (truth.empty() || truth.size() != labels.size()) return;
  const clustering::LabelQuality q = clustering::PairwiseLabelQuality(labels, truth);
  rec->label_precision = q.precision;
  rec->label_recall = q.recall;
}

// ---- SampleSource ----

class DatasetSource : public actors::SampleSource {
 public:
  // Loads with the probability, per phase, that an image keeps its person and takes the background of another
  // image of the set (data::SwapBackground): warmup.background_swap in stage 1, joint.background_swap in
  // stage 3, never in stage 2 or outside training.
  DatasetSource(std::shared_ptr<const data::ReidDataset> dataset, const proto::TrainConfig& config)
      : dataset_(std::move(dataset)),
        height_(config.data().height()),
        width_(config.data().width()),
        angles_(config.data().reference_new_angles() ? data::kReferenceNewAngles : data::kAllNewAngles),
        warmup_background_swap_(config.warmup().background_swap()),
        joint_background_swap_(config.joint().background_swap()) {}
  int64_t size() const override { return static_cast<int64_t>(dataset_->train.records.size()); }
  actors::ImageSize image_size() const override { return {height_, width_}; }
  bool has_structure() const override {
    return !dataset_->train.records.empty() && dataset_->train.records.front().has_structures();
  }
  void Load(int64_t index, uint64_t seed, proto::Phase phase, float* image, float* structure_ori,
            float* structure_new) override {
    const data::ImageRecord& r = dataset_->train.records.at(static_cast<size_t>(index));
    const auto decode = [this](const std::string& path) {
      return data::Resize(data::DecodeRgb(path), static_cast<int>(height_), static_cast<int>(width_),
                          data::ResizeKernel::kPilBicubic);
    };
    cv::Mat rgb = decode(r.path);
    // The angle-0 render is both the swap's person mask and structure_ori in stage 3: decoded at most once.
    cv::Mat render0;
    const auto original_render = [&]() -> const cv::Mat& {
      if (render0.empty()) render0 = data::DecodeLuma(r.StructurePath(0));
      return render0;
    };
    data::SampleRng rng(seed);
    const double swap = phase == proto::PHASE_WARMUP  ? warmup_background_swap_
                        : phase == proto::PHASE_JOINT ? joint_background_swap_
                                                      : 0.0;
    if (swap > 0.0 && rng.Bernoulli(swap)) {
      const data::ImageRecord& other = dataset_->train.records.at(rng.Below(dataset_->train.records.size()));
      const cv::Mat mask =
          data::ForegroundMask(original_render(), static_cast<int>(height_), static_cast<int>(width_));
      rgb = data::SwapBackground(rgb, mask, decode(other.path));
    }
    data::NormalizeToChw(rgb, data::kImageNetNorm, image);
    if (structure_ori == nullptr && structure_new == nullptr) return;
    const int angle = angles_[rng.Below(angles_.size())];  // reference §3: one random new view per sample
    auto luma = [&](int a, float* out) {
      const cv::Mat s = data::Resize(a == 0 ? original_render() : data::DecodeLuma(r.StructurePath(a)),
                                     static_cast<int>(height_), static_cast<int>(width_),
                                     data::ResizeKernel::kPilBicubic);
      data::NormalizeToChw(s, data::kStructureNorm, out);
    };
    if (structure_ori != nullptr) luma(0, structure_ori);
    if (structure_new != nullptr) luma(angle, structure_new);
  }

 private:
  std::shared_ptr<const data::ReidDataset> dataset_;
  int64_t height_, width_;
  std::vector<int> angles_;
  double warmup_background_swap_, joint_background_swap_;
};

// ---- shared state between the backends of one run ----

struct Shared {
  std::mutex mu;
  // Pseudo labels of the joint phase by clustering pass (PseudoLabels.epoch; reference §6: one pass before every
  // stage-3 epoch). Several are kept because with run.train_on_stale_labels an epoch trains on an older pass
  // while the clusterer delivers the next; the trainer drops passes older than the one its batches name.
  std::map<int64_t, std::vector<int64_t>> joint_labels;
  // E_id weights at each query extraction, matched in order with the evaluator's calls (the runtime evaluates in
  // boundary order) so the best model by test mAP can be exported (reference §7 model_best).
  struct Snapshot {
    proto::Phase phase;
    int64_t epoch;
    models::IdentityEncoderOptions options;
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
  };
  std::deque<Snapshot> pending_evals;
  double best_map = -1;
};

void ExportSnapshot(const Shared::Snapshot& s, const std::string& path) {
  models::IdentityEncoder net(s.options);
  torch::NoGradGuard no_grad;
  std::unordered_map<std::string, torch::Tensor> params;
  for (auto& p : net->named_parameters()) params[p.key()] = p.value();
  for (auto& b : net->named_buffers()) params[b.key()] = b.value();
  for (const auto& [name, t] : s.tensors) params.at(name).copy_(t);
  fs::create_directories(fs::path(path).parent_path());
  models::ExportIdentityEncoder(net, path);
}

// ---- TrainerBackend ----

void AddModule(torch::nn::Module& module, const std::string& name, proto::Checkpoint* checkpoint) {
  proto::ModuleState* state = checkpoint->add_networks();
  state->set_name(name);
  for (const auto& p : module.named_parameters()) {
    proto::NamedTensor* t = state->add_tensors();
    t->set_name(p.key());
    *t->mutable_tensor() = proto::EncodeTensor(p.value().detach().to(torch::kCPU).contiguous());
  }
  for (const auto& b : module.named_buffers()) {
    proto::NamedTensor* t = state->add_tensors();
    t->set_name(b.key());
    *t->mutable_tensor() = proto::EncodeTensor(b.value().to(torch::kCPU).contiguous());
  }
}

const proto::ModuleState* FindModule(const proto::Checkpoint& checkpoint, const std::string& name) {
  for (const proto::ModuleState& m : checkpoint.networks()) {
    if (m.name() == name) return &m;
  }
  return nullptr;
}

void RestoreModule(torch::nn::Module& module, const proto::Checkpoint& checkpoint, const std::string& name) {
  const proto::ModuleState* state = FindModule(checkpoint, name);
  if (state == nullptr) throw std::runtime_error("checkpoint has no network '" + name + "'");
  std::unordered_map<std::string, torch::Tensor> targets;
  for (auto& p : module.named_parameters()) targets[p.key()] = p.value();
  for (auto& b : module.named_buffers()) targets[b.key()] = b.value();
  torch::NoGradGuard no_grad;
  size_t seen = 0;
  for (const proto::NamedTensor& t : state->tensors()) {
    auto it = targets.find(t.name());
    if (it == targets.end()) throw std::runtime_error("checkpoint network '" + name + "': unknown tensor " + t.name());
    const torch::Tensor value = proto::DecodeTensorOrThrow(t.tensor(), "checkpoint " + name + "." + t.name());
    if (value.sizes() != it->second.sizes()) {
      throw std::runtime_error("checkpoint network '" + name + "': " + t.name() + " has shape " +
                               c10::str(value.sizes()) + ", the network " + c10::str(it->second.sizes()));
    }
    it->second.copy_(value);
    ++seen;
  }
  if (seen != targets.size()) {
    throw std::runtime_error("checkpoint network '" + name + "': " + std::to_string(seen) + " of " +
                             std::to_string(targets.size()) + " tensors");
  }
}

std::string SaveOptimizer(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

// The state (momentum buffers, Adam moments) is read onto `device`, where the optimizer's parameters live.
void LoadOptimizer(torch::optim::Optimizer& optimizer, const std::string& bytes, const c10::Device& device) {
  torch::serialize::InputArchive archive;
  std::istringstream in(bytes);
  archive.load_from(in, device);
  optimizer.load(archive);
}

void SetLr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

class GclTrainer : public actors::TrainerBackend {
 public:
  // `source_dataset`: the labelled source of UDA mode (warmup.mode SUPERVISED_SOURCE), else null.
  GclTrainer(const proto::TrainConfig& config, std::shared_ptr<const data::ReidDataset> dataset,
             std::shared_ptr<DatasetSource> source, std::shared_ptr<const data::ReidDataset> source_dataset,
             std::shared_ptr<Shared> shared, std::shared_ptr<RunRecorder> recorder)
      : config_(config),
        dataset_(std::move(dataset)),
        true_train_ids_(TrueTrainIds(*dataset_)),
        source_(std::move(source)),
        source_dataset_(std::move(source_dataset)),
        shared_(std::move(shared)),
        recorder_(std::move(recorder)),
        device_(PickDevice(config.run().device())),
        rng_(at::make_generator<at::CPUGeneratorImpl>(config.run().seed())) {
    torch::manual_seed(config.run().seed());
    nets_ = BuildNetworks(config, device_);
    const proto::OptimConfig& o = config.optim();
    OptimizerOptions opt;
    opt.generator_lr = o.generator_lr();
    opt.discriminator_lr = o.discriminator_lr();
    opt.adam_weight_decay = o.weight_decay();
    opt.identity_lr = o.identity_lr();
    opt.identity_weight_decay = o.weight_decay();
    optimizers_.emplace(nets_, opt);
    warmup_optimizer_.emplace(nets_.identity->parameters(),
                              torch::optim::AdamOptions(config.warmup().lr()).weight_decay(o.weight_decay()));
    step_options_.weights.recon_image = o.recon_weight();
    step_options_.weights.cycle_image = o.recon_weight();
    step_options_.weights.recon_feature = o.recon_weight();
    step_options_.weights.memory = o.memory_weight();
    const ViewInvariantTermWeights terms = TermWeightsOf(config.ablation());  // paper Tab. 3's rows
    step_options_.weights.vi_cluster_original = terms.l_vi;
    step_options_.weights.vi_instance = terms.l_vi_prime;
    step_options_.weights.vi_cluster_generated = terms.l_vi_double_prime;
    step_options_.view_invariant.temperature = config.run().temperature();
    step_options_.view_invariant.num_negatives = config.run().num_negatives();
    step_options_.memory_momentum = config.run().momentum();
    step_options_.identity_bn_statistics_from_real_images = config.joint().identity_bn_statistics_from_real_images();
    extract_.height = config.data().height();
    extract_.width = config.data().width();
    extract_.batch_size = config.data().eval_batch_size();
  }

  std::string device() const override { return device_.str(); }
  // JointStep samples positives and negatives from this trainer's own mirror of the bank, so the runtime need
  // not sample and ship contrast rows with every batch.
  bool UsesContrastRows() const override { return false; }

  StepOutput Step(const proto::Batch& batch, const proto::ContrastRows& /*contrast: see gcl_backends.h*/) override {
    const torch::Tensor images = proto::DecodeTensorOrThrow(batch.images(), "Batch.images").to(device_);
    const torch::Tensor indices = IndexTensor(batch.indices()).to(device_);
    StepOutput out;
    // The warm-up of UDA mode iterates the source train set (JobBackends::warmup_set).
    const int64_t n = batch.phase() == proto::PHASE_WARMUP && source_dataset_
                          ? static_cast<int64_t>(source_dataset_->train.records.size())
                          : source_->size();
    const int64_t b = config_.run().batch_size();
    int64_t batches = n / b;
    switch (batch.phase()) {
      case proto::PHASE_WARMUP: {
        if (!warmup_bank_) InitWarmupBank(batch.epoch());
        const torch::Tensor x = config_.warmup().no_augmentation() ? images : Augment(images, batch);
        out.losses["contrast"] = ContrastOnlyStep(nets_.identity, *warmup_optimizer_, *warmup_bank_, x,
                                                            indices, WarmupContrastOptions(), rng_);
        break;
      }
      case proto::PHASE_GAN_WARMUP: {
        SetLr(optimizers_->generator, config_.optim().generator_lr());
        SetLr(optimizers_->discriminator, config_.optim().discriminator_lr());
        GclBatch gb;
        gb.image = images;
        gb.structure_original = proto::DecodeTensorOrThrow(batch.structure_ori(), "Batch.structure_ori").to(device_);
        gb.structure_new = proto::DecodeTensorOrThrow(batch.structure_new(), "Batch.structure_new").to(device_);
        StepOptions o = step_options_;
        o.stage = Stage::kGanWarmup;
        AddLosses(JointStep(nets_, *optimizers_, nullptr, gb, o, rng_), &out);
        break;
      }
      case proto::PHASE_JOINT: {
        batches = SyncJointLabels(batch);
        // Reference §7: stage-3 G/D rate (1e-5 effective in the published runs), E_id by its MultiStep schedule.
        SetLr(optimizers_->generator, config_.optim().joint_generator_lr());
        SetLr(optimizers_->discriminator, config_.optim().joint_generator_lr());
        SetLr(optimizers_->identity, IdentityLr());
        const torch::Tensor before = joint_bank_->features().index_select(0, indices);
        if (config_.ablation().joint_mode() == proto::AblationConfig::CONTRAST_ONLY) {
          const torch::Tensor x = config_.ablation().contrast_only_augmentation() ? Augment(images, batch) : images;
          ContrastStepOptions co;
          co.temperature = config_.run().temperature();
          co.num_negatives = config_.run().num_negatives();
          co.memory_momentum = config_.run().momentum();
          out.losses["contrast"] =
              ContrastOnlyStep(nets_.identity, optimizers_->identity, *joint_bank_, x, indices, co, rng_);
        } else {
          GclBatch gb;
          gb.image = images;
          gb.structure_original = proto::DecodeTensorOrThrow(batch.structure_ori(), "Batch.structure_ori").to(device_);
          gb.structure_new = proto::DecodeTensorOrThrow(batch.structure_new(), "Batch.structure_new").to(device_);
          gb.indices = indices;
          StepOptions o = step_options_;
          o.stage = Stage::kJoint;
          AddLosses(JointStep(nets_, *optimizers_, &*joint_bank_, gb, o, rng_), &out);
        }
        // The runtime bank's mirror update (see gcl_backends.h): g = (m_new - a m_old) / (1 - a).
        const double a = config_.run().momentum();
        const torch::Tensor after = joint_bank_->features().index_select(0, indices);
        out.memory_update.set_version(actors::kActorProtocolVersion);
        for (int64_t i : batch.indices()) out.memory_update.add_indices(i);
        *out.memory_update.mutable_features() =
            proto::EncodeTensor(((after - a * before) / (1.0 - a)).to(torch::kCPU, torch::kFloat32).contiguous());
        break;
      }
      default:
        throw std::runtime_error("Batch.phase: " + proto::Phase_Name(batch.phase()) + " is not a training phase");
    }
    recorder_->Step(batch.phase(), batch.epoch(), batch.batch(), batches);
    return out;
  }

  void EndEpoch(proto::Phase phase, int64_t epoch) override {
    last_phase_ = phase;
    last_epoch_ = epoch;
    const proto::RunConfig& run = config_.run();
    if (phase == proto::PHASE_WARMUP) {
      if (epoch + 1 < run.warmup_epochs() && !source_dataset_) {
        ClusterWarmupBank(warmup_bank_->features(), epoch + 1);
      } else {
        // The stage-1 model, reusable as model.identity_init of another run.
        Export(recorder_->run_dir() + "/export/eid_stage1.safetensors");
      }
    }
    if (phase == proto::PHASE_JOINT) joint_epochs_done_ = epoch + 1;
    const bool last_gan = phase == proto::PHASE_GAN_WARMUP && epoch + 1 == run.gan_warmup_epochs();
    if ((last_gan || phase == proto::PHASE_JOINT) &&
        config_.ablation().joint_mode() != proto::AblationConfig::CONTRAST_ONLY) {
      WriteViewGrid(recorder_->run_dir() + "/views/views_" + PhaseName(phase) + "_e" + std::to_string(epoch) + ".png");
    }
    if (phase == proto::PHASE_JOINT && epoch + 1 == run.joint_epochs()) {
      Export(recorder_->run_dir() + "/export/eid_final.safetensors");
    }
  }

  proto::Tensor ExtractFeatures(const std::string& split) override {
    const data::ReidSplit* s = split == "train"   ? &dataset_->train
                               : split == "query" ? &dataset_->query
                               : split == "gallery" ? &dataset_->gallery
                                                    : nullptr;
    if (s == nullptr) throw std::runtime_error("ExtractFeatures: unknown split '" + split + "'");
    const torch::Tensor f = Extract(*s);
    if (split == "train") {
      // Reference §5: the stage-3 memory is the eval-mode train features; the runtime's bank gets the same. The
      // trainer's copy lives on the training device. Made anew (run.refresh_memory_each_epoch), it takes its
      // labels again from the next batch's clustering pass.
      joint_bank_.emplace(f.to(device_), torch::full({f.size(0)}, -1, torch::kInt64));
      joint_labels_epoch_ = -1;
    }
    if (split == "query") {
      Shared::Snapshot snap{last_phase_, last_epoch_, nets_.identity->options(), {}};
      for (const auto& p : nets_.identity->named_parameters()) snap.tensors.emplace_back(p.key(), p.value().detach().to(torch::kCPU).clone());
      for (const auto& p : nets_.identity->named_buffers()) snap.tensors.emplace_back(p.key(), p.value().to(torch::kCPU).clone());
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->pending_evals.push_back(std::move(snap));
    }
    return proto::EncodeTensor(f.contiguous());
  }

  void Save(proto::Checkpoint* checkpoint) override {
    *checkpoint->mutable_dataset() = fingerprint_;  // --resume refuses other data (training/run_folder.h)
    AddModule(*nets_.identity, "E_id", checkpoint);
    AddModule(*nets_.generator, "G", checkpoint);
    AddModule(*nets_.discriminator, "D", checkpoint);
    auto add_opt = [&](const std::string& name, torch::optim::Optimizer& o) {
      proto::OptimizerState* s = checkpoint->add_optimizers();
      s->set_name(name);
      s->set_state(SaveOptimizer(o));
    };
    add_opt("G", optimizers_->generator);
    add_opt("D", optimizers_->discriminator);
    add_opt("E_id", optimizers_->identity);
    add_opt("E_id_warmup", *warmup_optimizer_);
    proto::SchedulerState* sched = checkpoint->add_schedulers();
    sched->set_name("E_id");
    sched->set_last_epoch(joint_epochs_done_);
    sched->set_base_lr(config_.optim().identity_lr());
    sched->set_current_lr(IdentityLr());
    proto::RngState* rng = checkpoint->add_rng();
    rng->set_name("trainer");
    const torch::Tensor state = rng_.get_state();
    rng->set_state(std::string(static_cast<const char*>(state.data_ptr()), static_cast<size_t>(state.numel())));
    auto add_bank = [&](const std::string& name, const losses::MemoryBank& bank) {
      proto::ModuleState* m = checkpoint->add_networks();
      m->set_name(name);
      proto::NamedTensor* f = m->add_tensors();
      f->set_name("features");
      *f->mutable_tensor() = proto::EncodeTensor(bank.features().to(torch::kCPU).contiguous());
      proto::NamedTensor* l = m->add_tensors();
      l->set_name("labels");
      *l->mutable_tensor() = proto::EncodeTensor(bank.labels().to(torch::kCPU).contiguous());
    };
    if (warmup_bank_) add_bank("warmup_memory", *warmup_bank_);
    // Stage-1 clustering statistics (the runtime records clusters of the joint phase only), for a resumed run's
    // metrics.jsonl: rows (epoch, clusters, outliers).
    std::vector<int64_t> stats;
    for (const ClusterRecord& c : recorder_->Clusters()) {
      if (c.phase == proto::PHASE_WARMUP) stats.insert(stats.end(), {c.epoch, c.clusters, c.outliers});
    }
    if (!stats.empty()) {
      proto::ModuleState* m = checkpoint->add_networks();
      m->set_name("warmup_clusters");
      proto::NamedTensor* t = m->add_tensors();
      t->set_name("epoch_clusters_outliers");
      *t->mutable_tensor() = proto::EncodeTensor(torch::tensor(stats, torch::kInt64).view({-1, 3}));
    }
    if (joint_bank_) add_bank("joint_memory", *joint_bank_);
  }

  void Restore(const proto::Checkpoint& checkpoint) override {
    recorder_->SetStepsDone(checkpoint.global_step());  // the progress bar continues where the run stopped
    RestoreNetworks(checkpoint, &nets_);
    for (const proto::OptimizerState& s : checkpoint.optimizers()) {
      if (s.name() == "G") LoadOptimizer(optimizers_->generator, s.state(), device_);
      if (s.name() == "D") LoadOptimizer(optimizers_->discriminator, s.state(), device_);
      if (s.name() == "E_id") LoadOptimizer(optimizers_->identity, s.state(), device_);
      if (s.name() == "E_id_warmup") LoadOptimizer(*warmup_optimizer_, s.state(), device_);
    }
    for (const proto::SchedulerState& s : checkpoint.schedulers()) {
      if (s.name() == "E_id") joint_epochs_done_ = s.last_epoch();
    }
    for (const proto::RngState& r : checkpoint.rng()) {
      if (r.name() != "trainer") continue;
      torch::Tensor t = torch::empty({static_cast<int64_t>(r.state().size())}, torch::kUInt8);
      std::memcpy(t.data_ptr(), r.state().data(), r.state().size());
      rng_.set_state(t);
    }
    auto bank = [&](const std::string& name, std::optional<losses::MemoryBank>* out) {
      const proto::ModuleState* m = FindModule(checkpoint, name);
      if (m == nullptr) return;
      torch::Tensor f, l;
      for (const proto::NamedTensor& t : m->tensors()) {
        if (t.name() == "features") f = proto::DecodeTensorOrThrow(t.tensor(), name + ".features");
        if (t.name() == "labels") l = proto::DecodeTensorOrThrow(t.tensor(), name + ".labels");
      }
      if (!f.defined() || !l.defined()) throw std::runtime_error("checkpoint " + name + ": features or labels missing");
      out->emplace(losses::MemoryBank::FromSaved(f.to(device_), l));  // bit for bit: no second normalisation
    };
    bank("warmup_memory", &warmup_bank_);
    if (const proto::ModuleState* m = FindModule(checkpoint, "warmup_clusters"); m != nullptr && m->tensors_size() == 1) {
      const torch::Tensor rows = proto::DecodeTensorOrThrow(m->tensors(0).tensor(), "warmup_clusters").contiguous();
      if (rows.dim() != 2 || rows.size(1) != 3 || rows.scalar_type() != torch::kInt64) {
        throw std::runtime_error("checkpoint warmup_clusters: expected N x 3 int64, got " + c10::str(rows.sizes()));
      }
      const std::vector<ClusterRecord> known = recorder_->Clusters();
      for (int64_t i = 0; i < rows.size(0); ++i) {
        const int64_t epoch = rows[i][0].item<int64_t>();
        const bool have = std::any_of(known.begin(), known.end(), [&](const ClusterRecord& c) {
          return c.phase == proto::PHASE_WARMUP && c.epoch == epoch;
        });
        if (!have) {
          recorder_->AddClusters({proto::PHASE_WARMUP, epoch, rows[i][1].item<int64_t>(), rows[i][2].item<int64_t>(), 0, 0});
        }
      }
    }
    bank("joint_memory", &joint_bank_);
    // eid_best.safetensors holds the best stage-3 E_id by test mAP (reference §7 model_best): a resumed run
    // replaces it only with a better one than the epochs before the checkpoint had.
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (const proto::EpochSummary& s : checkpoint.history()) {
      if (s.phase() == proto::PHASE_JOINT && s.has_eval()) shared_->best_map = std::max(shared_->best_map, s.eval().mean_ap());
    }
  }

 private:
  void Export(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    models::ExportIdentityEncoder(nets_.identity, path);
  }

  torch::Tensor Extract(const data::ReidSplit& split) {
    std::vector<std::string> paths;
    paths.reserve(split.records.size());
    for (const data::ImageRecord& r : split.records) paths.push_back(r.path);
    return evaluation::ExtractFeatures(nets_.identity, paths, extract_, device_);
  }

  ContrastStepOptions WarmupContrastOptions() const {
    ContrastStepOptions o;
    o.temperature = config_.run().temperature();
    o.num_negatives = config_.warmup().num_negatives();
    o.memory_momentum = config_.run().momentum();
    return o;
  }

  void InitWarmupBank(int64_t epoch) {
    if (source_dataset_) {
      // UDA mode: the source's identities are the memory's labels for the whole of stage 1 (never clustered).
      std::vector<int64_t> labels;
      for (const data::ImageRecord& r : source_dataset_->train.records) labels.push_back(r.label);
      warmup_bank_.emplace(Extract(source_dataset_->train).to(device_), torch::tensor(labels, torch::kInt64));
      return;
    }
    ClusterWarmupBank(Extract(dataset_->train), epoch);
  }

  // Stage 1 renews its labels every epoch from the memory, as stage 3 does (reference §6). The clusterer takes CPU
  // features; the bank lives on the training device.
  void ClusterWarmupBank(const torch::Tensor& features, int64_t epoch) {
    const clustering::PseudoLabels p =
        clustering::ComputePseudoLabels(features.to(torch::kCPU), PseudoLabelOptionsOf(config_.run()));
    ClusterRecord rec;
    rec.phase = proto::PHASE_WARMUP;
    rec.epoch = epoch;
    const torch::Tensor labels = InstanceFilledLabels(p.labels, &rec.clusters, &rec.outliers);
    rec.eps = p.stats.eps;
    rec.seconds = p.stats.total_seconds;
    AddLabelQuality(p.labels, true_train_ids_, &rec);
    recorder_->AddClusters(rec);
    if (warmup_bank_) {
      warmup_bank_->SetLabels(labels);
    } else {
      warmup_bank_.emplace(features.to(device_), labels);
    }
  }

  // The memory's labels become those of the clustering pass the batch was planned with (Batch.labels_epoch:
  // the latest pass by default, an older one with run.train_on_stale_labels), checked against the batch's own.
  int64_t SyncJointLabels(const proto::Batch& batch) {
    if (!joint_bank_) throw std::runtime_error("joint step before the memory was initialised from train features");
    if (batch.labels_epoch() != joint_labels_epoch_) {
      std::lock_guard<std::mutex> lock(shared_->mu);
      const auto pass = shared_->joint_labels.find(batch.labels_epoch());
      if (pass == shared_->joint_labels.end()) {
        throw std::runtime_error("joint batch " + std::to_string(batch.batch()) + " of epoch " +
                                 std::to_string(batch.epoch()) + " was planned with the pseudo labels of the clustering pass of epoch " +
                                 std::to_string(batch.labels_epoch()) + ", which the trainer does not have");
      }
      joint_bank_->SetLabels(torch::tensor(pass->second, torch::kInt64));
      joint_labels_epoch_ = batch.labels_epoch();
      clustered_ = std::count_if(pass->second.begin(), pass->second.end(), [](int64_t l) { return l >= 0; });
      shared_->joint_labels.erase(shared_->joint_labels.begin(), pass);  // the coordinator never goes back
    }
    const torch::Tensor labels = joint_bank_->labels().to(torch::kCPU);
    for (int i = 0; i < batch.indices_size(); ++i) {
      if (labels[batch.indices(i)].item<int64_t>() != batch.labels(i)) {
        throw std::runtime_error("joint batch " + std::to_string(batch.batch()) + " of epoch " +
                                 std::to_string(batch.epoch()) + ": row " + std::to_string(batch.indices(i)) +
                                 " has label " + std::to_string(batch.labels(i)) +
                                 ", the trainer's pseudo labels say " + std::to_string(labels[batch.indices(i)].item<int64_t>()));
      }
    }
    return clustered_ / config_.run().batch_size();
  }

  double IdentityLr() const {
    double lr = config_.optim().identity_lr();
    for (int m : config_.optim().identity_milestones()) {
      if (joint_epochs_done_ >= m) lr *= config_.optim().gamma();
    }
    return lr;
  }

  // Traditional augmentation (flip, pad + crop, random erasing; data/pipeline AugmentOptions::Traditional, the
  // padding scaled with the image height: 10 px at 256) applied to the normalised batch, one draw per sample
  // from (seed, epoch, row).
  torch::Tensor Augment(const torch::Tensor& images, const proto::Batch& batch) {
    data::TransformOptions t;
    t.height = static_cast<int>(images.size(2));
    t.width = static_cast<int>(images.size(3));
    t.augment = data::AugmentOptions::Traditional();
    t.augment.pad = std::max(1, static_cast<int>(std::lround(10.0 * t.height / 256.0)));
    const int pad = t.augment.pad;
    const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}, images.options()).view({3, 1, 1});
    const torch::Tensor stdv = torch::tensor({0.229f, 0.224f, 0.225f}, images.options()).view({3, 1, 1});
    const torch::Tensor black = (-mean / stdv);  // a zero pixel, normalised (the pipeline pads with 0)
    std::vector<torch::Tensor> out;
    for (int64_t i = 0; i < images.size(0); ++i) {
      data::SampleRng rng(data::MixSeed({config_.run().seed(), static_cast<uint64_t>(batch.phase()),
                                         static_cast<uint64_t>(batch.epoch()), static_cast<uint64_t>(batch.indices(i))}));
      const data::AugmentDraw draw = data::DrawAugment(t, &rng);
      torch::Tensor x = images[i];
      if (draw.flip) x = x.flip({2});
      torch::Tensor padded = black.expand({3, t.height + 2 * pad, t.width + 2 * pad}).clone();
      padded.narrow(1, pad, t.height).narrow(2, pad, t.width).copy_(x);
      x = padded.narrow(1, draw.crop_y, t.height).narrow(2, draw.crop_x, t.width).clone();
      if (draw.erase) {
        x.narrow(1, draw.erase_rect.y, draw.erase_rect.height).narrow(2, draw.erase_rect.x, draw.erase_rect.width).zero_();
      }
      out.push_back(x);
    }
    return torch::stack(out);
  }

  static void AddLosses(const StepLosses& l, StepOutput* out) {
    out->losses["d_total"] = l.d_total;
    out->losses["d_real"] = l.d_real;
    out->losses["d_fake"] = l.d_fake;
    out->losses["d_r1"] = l.d_r1;
    out->losses["g_total"] = l.g_total;
    out->losses["g_adversarial"] = l.g_adversarial;
    out->losses["recon_image"] = l.recon_image;
    out->losses["cycle_image"] = l.cycle_image;
    out->losses["recon_feature"] = l.recon_feature;
    out->losses["cycle_feature"] = l.cycle_feature;
    out->losses["vi_instance"] = l.vi_instance;
    out->losses["vi_cluster_generated"] = l.vi_cluster_generated;
    out->losses["vi_cluster_original"] = l.vi_cluster_original;
  }

  // Novel views of a few fixed train images at all eight render angles (paper Fig. 1): one row per image, the
  // input first, then G(E_str(render at angle), E_id part code).
  void WriteViewGrid(const std::string& path) {
    const int64_t n = std::min<int64_t>(config_.output().view_grid_images(), source_->size());
    if (n <= 0 || !source_->has_structure()) return;
    const int64_t h = config_.data().height(), w = config_.data().width();
    const std::vector<int> angles(data::kRenderAngles.begin(), data::kRenderAngles.end());
    const auto num_angles = static_cast<int64_t>(angles.size());
    torch::Tensor images = torch::empty({n, 3, h, w});
    torch::Tensor structures = torch::empty({n, num_angles, 1, h, w});
    for (int64_t row = 0; row < n; ++row) {
      const int64_t index = row * source_->size() / n;
      const data::ImageRecord& r = dataset_->train.records.at(static_cast<size_t>(index));
      source_->Load(index, 0, proto::PHASE_UNSPECIFIED, images[row].data_ptr<float>(), nullptr, nullptr);
      for (int64_t a = 0; a < num_angles; ++a) {
        const cv::Mat s = data::Resize(data::DecodeLuma(r.StructurePath(angles[static_cast<size_t>(a)])),
                                       static_cast<int>(h), static_cast<int>(w), data::ResizeKernel::kPilBicubic);
        data::NormalizeToChw(s, data::kStructureNorm, structures[row][a].data_ptr<float>());
      }
    }
    const cv::Mat grid = NovelViewGrid(nets_, images, structures, angles, device_);
    fs::create_directories(fs::path(path).parent_path());
    if (!cv::imwrite(path, grid)) throw std::runtime_error(path + ": cannot write the view grid");
    const std::string latest = (fs::path(path).parent_path() / "views_latest.png").string();
    fs::copy_file(path, latest, fs::copy_options::overwrite_existing);
  }

  proto::TrainConfig config_;
  std::shared_ptr<const data::ReidDataset> dataset_;
  const proto::DatasetFingerprint fingerprint_ = DatasetFingerprintOf(*dataset_, config_);
  std::vector<int64_t> true_train_ids_;  // for the pseudo-label diagnosis only
  std::shared_ptr<DatasetSource> source_;
  std::shared_ptr<const data::ReidDataset> source_dataset_;  // UDA mode's labelled source, else null
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<RunRecorder> recorder_;
  c10::Device device_;
  at::Generator rng_;
  GclNetworks nets_;
  std::optional<GclOptimizers> optimizers_;
  std::optional<torch::optim::Adam> warmup_optimizer_;
  StepOptions step_options_;
  evaluation::ExtractOptions extract_;
  std::optional<losses::MemoryBank> warmup_bank_, joint_bank_;
  int64_t joint_labels_epoch_ = -1;
  int64_t clustered_ = 0;
  int64_t joint_epochs_done_ = 0;
  proto::Phase last_phase_ = proto::PHASE_UNSPECIFIED;
  int64_t last_epoch_ = -1;
};

evaluation::ReidLabels LabelsOf(const data::ReidSplit& split) {
  evaluation::ReidLabels l;
  for (const data::ImageRecord& r : split.records) {
    l.pids.push_back(r.pid);
    l.camids.push_back(r.camid);
  }
  return l;
}

}  // namespace

GclNetworks BuildNetworks(const proto::TrainConfig& config, const c10::Device& device) {
  const proto::ModelConfig& m = config.model();
  GclNetworks nets;
  models::IdentityEncoderOptions id;
  id.backbone = models::ParseBackbone(m.backbone().empty() ? "resnet" : m.backbone());
  id.depth = m.depth();
  id.width = m.width();
  id.mobilenet_width = m.mobilenet_width() > 0 ? m.mobilenet_width() : 1.0;
  id.frozen_batch_norm = m.backbone_batch_norm() == "frozen";
  id.embedding_dim = m.embedding_dim();
  nets.identity = models::IdentityEncoder(id);
  if (IsTfjsIdentityInit(m.identity_init())) {
    const std::string json = models::tfjs::IsBundledModel(m.identity_init())
                                 ? models::tfjs::BundledModelJson(m.identity_init())
                                 : m.identity_init();
    const data::Normalization& norm = data::kImageNetNorm;  // what the loaders feed E_id
    models::ImportMoveNetBackbone(nets.identity, models::tfjs::ReadGraphModel(json),
                                  {{norm.mean[0], norm.mean[1], norm.mean[2]}, {norm.std[0], norm.std[1], norm.std[2]}});
  } else if (!m.identity_init().empty()) {
    models::ImportIdentityEncoderWeights(nets.identity, m.identity_init(), models::IdentityWeights::kAuto);
  }
  models::GeneratorOptions g;
  g.part_code_dim = nets.identity->part_code_dim();
  g.dim = m.generator_dim();
  g.mlp_dim = m.mlp_dim();
  nets.generator = models::Generator(g);
  models::DiscriminatorOptions d;
  d.dim = m.discriminator_dim();
  d.num_scales = m.discriminator_scales();
  nets.discriminator = models::MultiScaleDiscriminator(d);
  nets.identity->to(device);
  nets.generator->to(device);
  nets.discriminator->to(device);
  return nets;
}

void RestoreNetworks(const proto::Checkpoint& checkpoint, GclNetworks* nets) {
  RestoreModule(*nets->identity, checkpoint, "E_id");
  RestoreModule(*nets->generator, checkpoint, "G");
  RestoreModule(*nets->discriminator, checkpoint, "D");
}

namespace {

cv::Mat ToBgr8(const torch::Tensor& chw) {  // ImageNet-normalised 3 x H x W
  const auto& norm = data::kImageNetNorm;
  const torch::Tensor mean = torch::tensor({norm.mean[0], norm.mean[1], norm.mean[2]}).view({3, 1, 1});
  const torch::Tensor stdv = torch::tensor({norm.std[0], norm.std[1], norm.std[2]}).view({3, 1, 1});
  const torch::Tensor rgb = ((chw.detach().to(torch::kCPU, torch::kFloat32) * stdv + mean) * 255.0)
                                .clamp(0, 255)
                                .to(torch::kUInt8)
                                .permute({1, 2, 0})
                                .contiguous();
  cv::Mat image(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, rgb.data_ptr());
  cv::Mat bgr;
  cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

}  // namespace

cv::Mat NovelViewGrid(GclNetworks& nets, const torch::Tensor& images, const torch::Tensor& structures,
                      const std::vector<int>& angles, const c10::Device& device) {
  const int64_t n = images.size(0), num_angles = static_cast<int64_t>(angles.size());
  const int cell_h = static_cast<int>(images.size(2)), cell_w = static_cast<int>(images.size(3)), header = 18;
  cv::Mat grid(header + static_cast<int>(n) * cell_h, static_cast<int>(1 + num_angles) * cell_w, CV_8UC3,
               cv::Scalar(255, 255, 255));
  cv::putText(grid, "input", {4, 13}, cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0}, 1);
  for (size_t a = 0; a < angles.size(); ++a) {
    cv::putText(grid, std::to_string(angles[a]), {static_cast<int>(a + 1) * cell_w + 4, 13},
                cv::FONT_HERSHEY_SIMPLEX, 0.4, {0, 0, 0}, 1);
  }
  torch::NoGradGuard no_grad;
  const bool id_training = nets.identity->is_training(), gen_training = nets.generator->is_training();
  nets.identity->eval();
  nets.generator->eval();
  for (int64_t row = 0; row < n; ++row) {
    const torch::Tensor image = images.narrow(0, row, 1);
    const torch::Tensor code = nets.identity->part_code(image.to(device));
    const torch::Tensor views = nets.generator->decode(nets.generator->encode(structures[row].to(device)),
                                                       code.expand({num_angles, code.size(1)}));
    const int y = header + static_cast<int>(row) * cell_h;
    ToBgr8(image[0]).copyTo(grid(cv::Rect(0, y, cell_w, cell_h)));
    for (int64_t a = 0; a < num_angles; ++a) {
      ToBgr8(views[a]).copyTo(grid(cv::Rect(static_cast<int>(a + 1) * cell_w, y, cell_w, cell_h)));
    }
  }
  nets.identity->train(id_training);
  nets.generator->train(gen_training);
  return grid;
}

proto::Checkpoint ReadCheckpointFile(const std::string& path) {
  std::string file = path;
  if (fs::is_directory(path)) {
    std::ifstream latest(path + "/LATEST");
    std::string name;
    if (!(latest >> name)) throw std::runtime_error(path + ": no LATEST naming a checkpoint");
    file = path + "/" + name;
  }
  std::ifstream in(file, std::ios::binary);
  proto::Checkpoint checkpoint;
  if (!in || !checkpoint.ParseFromIstream(&in)) throw std::runtime_error(file + ": not a readable checkpoint");
  return checkpoint;
}

namespace {

data::ReidDataset LoadData(const proto::DataConfig& d, const std::string& working_dir) {
  data::DatasetOptions options;
  options.image_check = data::ImageCheck::kHeader;
  if (d.dataset() == "synthetic") {
    const std::string cache = d.cache_dir().empty() ? DefaultCacheDir() : ResolveAgainst(d.cache_dir(), working_dir);
    fs::create_directories(cache);
    // The first run renders the world (a minute or two on 2 cores); later runs find it in the cache at once.
    ProgressLine bar("rendering synthetic '" + d.synthetic_preset() + "' world into " + cache, "images");
    const std::string root = data::EnsureSyntheticDataset(
        d.synthetic_preset(), d.synthetic_seed(), cache, /*threads=*/0,
        [&bar](size_t done, size_t total) { bar.Update(done, total); });
    options.mesh_dir = root + "/mesh";
    return data::LoadMarket1501(root, options);
  }
  options.mesh_dir = ResolveAgainst(d.mesh_dir(), working_dir);
  return data::LoadDataset(d.dataset(), ResolveAgainst(d.root(), working_dir), options);
}

}  // namespace

data::ReidDataset LoadTrainData(const proto::TrainConfig& config, const std::string& working_dir) {
  return LoadData(config.data(), working_dir);
}

data::ReidDataset LoadSourceData(const proto::TrainConfig& config, const std::string& working_dir) {
  if (config.warmup().mode() != proto::WarmupConfig::SUPERVISED_SOURCE) {
    throw std::runtime_error("LoadSourceData: warmup.mode is not SUPERVISED_SOURCE; there is no source dataset");
  }
  data::ReidDataset source = LoadData(config.source(), working_dir);
  const std::vector<data::ImageRecord>& train = source.train.records;
  // Stage 1 contrasts every source image with same-identity positives and K other-identity negatives.
  std::map<int, int64_t> per_identity;
  for (const data::ImageRecord& r : train) {
    if (r.label < 0) {
      throw std::runtime_error("source dataset " + source.root + ": train image " + r.path +
                               " has no identity label; warmup.mode SUPERVISED_SOURCE needs a labelled source");
    }
    ++per_identity[r.label];
  }
  if (per_identity.size() < 2) {
    throw std::runtime_error("source dataset " + source.root + ": its train split has " +
                             std::to_string(per_identity.size()) +
                             " identities; warmup.mode SUPERVISED_SOURCE needs a labelled source with at least 2");
  }
  int64_t largest = 0;
  for (const auto& [label, count] : per_identity) largest = std::max(largest, count);
  const int64_t negatives = static_cast<int64_t>(train.size()) - largest;
  if (config.warmup().num_negatives() > negatives) {
    throw std::runtime_error("TrainConfig.warmup.num_negatives: " + std::to_string(config.warmup().num_negatives()) +
                             " negatives, but source dataset " + source.root + " has only " +
                             std::to_string(negatives) + " images outside its largest identity");
  }
  return source;
}

actors::JobBackends MakeJobBackends(const proto::TrainConfig& config, std::shared_ptr<const data::ReidDataset> dataset,
                                    std::shared_ptr<RunRecorder> recorder,
                                    std::shared_ptr<const data::ReidDataset> source_dataset) {
  if ((config.warmup().mode() == proto::WarmupConfig::SUPERVISED_SOURCE) != (source_dataset != nullptr)) {
    throw std::runtime_error(
        "MakeJobBackends: a source dataset goes with warmup.mode SUPERVISED_SOURCE, and only with it");
  }
  if (dataset->query.records.empty() || dataset->gallery.records.empty()) {
    throw std::runtime_error("dataset " + dataset->root + ": evaluation needs query and gallery images");
  }
  auto source = std::make_shared<DatasetSource>(dataset, config);
  if (!source->has_structure()) {
    throw std::runtime_error("dataset " + dataset->root + ": the train split has no structure renders (data.mesh_dir)");
  }
  auto shared = std::make_shared<Shared>();
  actors::JobBackends b;
  b.train_set = source;
  if (source_dataset) {
    b.warmup_set = std::make_shared<DatasetSource>(source_dataset, config);
    if (config.warmup().background_swap() > 0.0 && !b.warmup_set->has_structure()) {
      throw std::runtime_error("warmup.background_swap needs structure renders of the source train set (source "
                               "dataset " + source_dataset->root + " has none; set source.mesh_dir)");
    }
  }
  b.make_trainer = [config, dataset, source, source_dataset, shared,
                    recorder]() -> std::unique_ptr<actors::TrainerBackend> {
    return std::make_unique<GclTrainer>(config, dataset, source, source_dataset, shared, recorder);
  };
  const uint64_t bank_seed = config.run().seed() + 1;
  b.make_bank = [bank_seed]() { return MakeMemoryBankBackend(bank_seed); };
  const std::vector<int64_t> true_ids = TrueTrainIds(*dataset);
  b.cluster = [shared, recorder, true_ids](const proto::BankSnapshot& bank, const proto::RunConfig& run) {
    const torch::Tensor f = proto::DecodeTensorOrThrow(bank.features(), "BankSnapshot.features");
    const clustering::PseudoLabels p = clustering::ComputePseudoLabels(f, PseudoLabelOptionsOf(run));
    proto::PseudoLabels out;
    out.set_version(actors::kActorProtocolVersion);
    out.set_epoch(bank.epoch());
    for (int64_t l : p.labels) out.add_labels(l);
    out.set_num_clusters(static_cast<int32_t>(p.stats.num_clusters));
    out.set_num_outliers(static_cast<int32_t>(p.stats.num_outliers));
    out.set_eps(p.stats.eps);
    out.set_seconds(p.stats.total_seconds);
    ClusterRecord rec{proto::PHASE_JOINT, bank.epoch(), p.stats.num_clusters, p.stats.num_outliers, p.stats.eps,
                      p.stats.total_seconds};
    AddLabelQuality(p.labels, true_ids, &rec);
    recorder->AddClusters(rec);
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->joint_labels[bank.epoch()] = p.labels;
    return out;
  };
  const evaluation::ReidLabels query = LabelsOf(dataset->query), gallery = LabelsOf(dataset->gallery);
  const std::string run_dir = recorder->run_dir();
  b.evaluate = [shared, recorder, query, gallery, run_dir](const proto::Tensor& q, const proto::Tensor& g) {
    const evaluation::ReidMetrics m = evaluation::EvaluateFeatures(proto::DecodeTensorOrThrow(q, "query features"),
                                                                   proto::DecodeTensorOrThrow(g, "gallery features"), query, gallery);
    const EvalRecord record = MakeEvalRecord(m);
    proto::EvalReport report;
    report.set_version(actors::kActorProtocolVersion);
    report.set_mean_ap(record.map);
    report.set_mean_inp(record.minp);
    for (double c : record.cmc) report.add_cmc(c);
    std::optional<Shared::Snapshot> snap;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      if (!shared->pending_evals.empty()) {
        snap = std::move(shared->pending_evals.front());
        shared->pending_evals.pop_front();
      }
    }
    if (snap) {
      EvalRecord rec = record;
      rec.phase = snap->phase;
      rec.epoch = snap->epoch;
      recorder->AddEval(rec);
      bool best = false;
      {
        std::lock_guard<std::mutex> lock(shared->mu);
        best = snap->phase == proto::PHASE_JOINT && m.map > shared->best_map;
        if (best) shared->best_map = m.map;
      }
      if (best) ExportSnapshot(*snap, run_dir + "/export/eid_best.safetensors");
    }
    return report;
  };
  return b;
}

}  // namespace gcl::training

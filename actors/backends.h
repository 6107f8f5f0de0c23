// The work the actors delegate: interfaces the libraries (data/, training/, clustering/, evaluation/) implement
// and the actors call. Actors own state and move messages; everything numeric happens behind these interfaces, so
// the runtime is tested with small deterministic implementations and runs a real job with the library ones
// (training/gcl_backends.h and training/bank_cluster_backends.h bind them).
//
// Every method may throw (std::runtime_error for bad input or files, c10::Error from LibTorch); the calling
// actor catches at its boundary and reports the cause (supervision), never crashes the process.
#ifndef GCL_ACTORS_BACKENDS_H_
#define GCL_ACTORS_BACKENDS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "proto/actor_protocol.pb.h"
#include "proto/checkpoint.pb.h"
#include "proto/run_config.pb.h"

namespace gcl::actors {

// Image size of every sample a source produces.
struct ImageSize {
  int64_t height = 0;
  int64_t width = 0;
};

// The training set as the loaders read it (data/ implements it over a dataset and its structure renders).
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // Number of samples; dataset row i is memory row i (reference §9: train order defines the memory row).
  virtual int64_t size() const = 0;
  virtual ImageSize image_size() const = 0;
  // Reads, decodes and transforms sample `index` for a batch of `phase` into `image` (3*H*W floats, CHW) and,
  // when not null, its structure images `structure_ori` and `structure_new` (H*W floats each). `seed` decides
  // every random choice (e.g. the new view's angle), so a replayed epoch loads identical batches; `phase` lets a
  // source augment differently per stage (e.g. warmup.background_swap). Throws std::runtime_error naming
  // the file when it cannot be read; the loader then skips the sample and counts it.
  virtual void Load(int64_t index, uint64_t seed, proto::Phase phase, float* image, float* structure_ori,
                    float* structure_new) = 0;
  // Whether this source has structure images (the GAN phases need them).
  virtual bool has_structure() const = 0;
};

// What one training step reports.
struct StepOutput {
  std::map<std::string, double> losses;
  // Joint phase: the original view's L2-normalised embeddings for the memory update (reference §5); else unset.
  proto::FeatureUpdate memory_update;
};

// The networks E_id, E_str, G, D with their optimizers and schedules, on the device chosen at run time
// (training/ implements it with the joint GCL step). Used by the one detached trainer actor only.
class TrainerBackend {
 public:
  virtual ~TrainerBackend() = default;
  // "cpu", "cuda:0", ...
  virtual std::string device() const = 0;
  // One optimisation step of `phase` on `batch`. `contrast` holds the memory rows of the joint phase (empty
  // otherwise, and empty when UsesContrastRows() is false).
  virtual StepOutput Step(const proto::Batch& batch, const proto::ContrastRows& contrast) = 0;
  // Whether joint steps need the memory bank's ContrastRows. A backend that samples from a memory of its own
  // (keeping the bank actor as a mirror through its FeatureUpdates) returns false and saves the trainer a
  // request and a copy of up to N x D rows per step.
  virtual bool UsesContrastRows() const { return true; }
  // End of an epoch: the schedules step (reference §7: once per stage-3 epoch).
  virtual void EndEpoch(proto::Phase phase, int64_t epoch) = 0;
  // Eval-mode, L2-normalised E_id embeddings (N x D float32) of `split`: "train" in dataset order initialises
  // the memory (reference §5), "query" and "gallery" feed the evaluator (§8).
  virtual proto::Tensor ExtractFeatures(const std::string& split) = 0;
  // Networks, optimizers, schedules and random streams into `checkpoint`; Restore reads them back.
  virtual void Save(proto::Checkpoint* checkpoint) = 0;
  virtual void Restore(const proto::Checkpoint& checkpoint) = 0;
};

// A clustering pass (clustering/: Jaccard distance, eps rule, DBSCAN; reference §6). Labels for every bank row,
// -1 for outliers. Runs in the detached clusterer actor.
using ClusterFn = std::function<proto::PseudoLabels(const proto::BankSnapshot& bank, const proto::RunConfig& config)>;

// Retrieval metrics (clustering/ metrics, reference §8) from query and gallery features of one evaluation.
using EvalFn = std::function<proto::EvalReport(const proto::Tensor& query, const proto::Tensor& gallery)>;

// The memory bank's arithmetic (losses/ MemoryBank): the momentum update and the sampling of contrast rows.
// The memory bank actor owns one and calls nothing else.
class BankBackend {
 public:
  virtual ~BankBackend() = default;
  virtual int64_t rows() const = 0;
  virtual int64_t dim() const = 0;
  // Replace the whole bank (N x D float32; labels N or empty = all rows unlabelled).
  virtual void Reset(const proto::BankSnapshot& snapshot) = 0;
  // The bank exactly as a checkpoint saved it (Snapshot() of an earlier bank). Unlike Reset, which may
  // normalise the rows (reference §5 init), this must not change a bit, so that a resumed run clusters the same
  // memory as the uninterrupted one. Backends whose Reset keeps the rows as given need not override it.
  virtual void Restore(const proto::BankSnapshot& snapshot) { Reset(snapshot); }
  virtual void SetLabels(const proto::PseudoLabels& labels) = 0;
  // m_i <- normalize(momentum * m_i + (1 - momentum) * f) for every row in `update` (reference §5).
  virtual void Update(const proto::FeatureUpdate& update, double momentum) = 0;
  virtual proto::BankSnapshot Snapshot() const = 0;
  // Positives and K negatives per anchor with the bank's own random stream (seeded by `seed` at creation).
  virtual proto::ContrastRows Sample(const proto::ContrastRequest& request) = 0;
  // The random stream's state, for checkpoints.
  virtual std::string SaveRng() const = 0;
  virtual void RestoreRng(const std::string& state) = 0;
};

// Everything a training job needs besides its configuration.
struct JobBackends {
  std::shared_ptr<SampleSource> train_set;
  // What the warm-up phase (PHASE_WARMUP) iterates instead of train_set, e.g. the labelled source dataset of UDA
  // mode; empty: train_set. The memory bank, the joint phase and "train" extraction always use train_set.
  std::shared_ptr<SampleSource> warmup_set;
  std::function<std::unique_ptr<TrainerBackend>()> make_trainer;
  std::function<std::unique_ptr<BankBackend>()> make_bank;
  ClusterFn cluster;
  EvalFn evaluate;  // may be empty: no evaluation
  // May be empty. Called once by a resumed run after the trainer and the memory bank restored the checkpoint,
  // before the first epoch: the moment the run may rewrite what it keeps beside its checkpoints (//:train writes
  // config.pbtxt then). A throw stops the run with its message.
  std::function<void()> on_restored;

  // The source the loaders read in `phase`.
  const std::shared_ptr<SampleSource>& SetFor(proto::Phase phase) const {
    return SetForPhase(phase, train_set, warmup_set);
  }

  // The rule behind SetFor, for actors that hold the two sets themselves: the warm-up phase reads `warmup_set`
  // when there is one (UDA's labelled source), every other phase `train_set`.
  static const std::shared_ptr<SampleSource>& SetForPhase(proto::Phase phase,
                                                          const std::shared_ptr<SampleSource>& train_set,
                                                          const std::shared_ptr<SampleSource>& warmup_set) {
    return phase == proto::PHASE_WARMUP && warmup_set ? warmup_set : train_set;
  }
};

}  // namespace gcl::actors

#endif  // GCL_ACTORS_BACKENDS_H_

// The library implementations of the actor runtime's backends (actors/backends.h) for `//:train`:
//   DatasetSource  SampleSource over a ReidDataset's train split: image + s_ori + s_new (reference §3)
//   GclTrainer     TrainerBackend: E_id, E_str + G, D with the stage-1 warm-up of our own (contrast + DBSCAN
//                  labels + traditional augmentation; in UDA mode contrast with the labelled source's
//                  identities instead), stage 2 (GAN, E_id frozen) and stage 3 (joint GCL step),
//                  optimizers and schedules of reference §7, checkpoints, novel-view grids, E_id exports
//   GclBank        BankBackend over losses::MemoryBank (momentum update, label-aware sampling, §5)
//   cluster        clustering::ComputePseudoLabels (Jaccard + rho eps + DBSCAN, §6)
//   evaluate       evaluation::EvaluateFeatures (mAP, CMC, mINP, §8); exports the best E_id by test mAP (§7)
//
//   data::ReidDataset data = LoadTrainData(config, working_dir);
//   auto recorder = std::make_shared<RunRecorder>(...);
//   actors::JobBackends backends = MakeJobBackends(config, std::make_shared<data::ReidDataset>(data), recorder);
//   caf::actor job = actors::SpawnCoordinator(system, config.run(), backends, run_dir + "/checkpoints", resume);
//
// How the joint step meets the runtime: JointStep draws its contrastive positives and negatives from a
// losses::MemoryBank it updates itself, so the trainer keeps that bank (initialised from the same "train"
// features as the runtime's bank) and the runtime's memory-bank actor holds a mirror: each step's FeatureUpdate
// carries g = (m_new - a m_old) / (1 - a), for which the actor's update normalize(a m_old + (1 - a) g) yields the
// trainer's m_new, so the clusterer clusters the memory the loss used (reference §6). The contrast rows the
// runtime samples are not used. The pseudo labels reach the trainer from the cluster function, kept by clustering
// pass; each batch names the pass its epoch was planned with (Batch.labels_epoch: the newest by default, an older
// one with run.train_on_stale_labels) and its labels are checked against that pass.
#ifndef GCL_TRAINING_GCL_BACKENDS_H_
#define GCL_TRAINING_GCL_BACKENDS_H_

#include <memory>
#include <string>

#include "actors/backends.h"
#include "data/datasets/reid_dataset.h"
#include "proto/train_config.pb.h"
#include "training/run_outputs.h"

namespace gcl::training {

// The dataset of `config.data` with its structure renders; "synthetic" makes (or reuses) the cached synthetic
// world. Relative paths resolve against `working_dir`. Throws std::runtime_error naming the folder or field.
data::ReidDataset LoadTrainData(const proto::TrainConfig& config, const std::string& working_dir);

// Where generated datasets are cached when data.cache_dir is empty: $XDG_CACHE_HOME/gcl, else ~/.cache/gcl.
std::string DefaultCacheDir();

// UDA mode (warmup.mode SUPERVISED_SOURCE): the labelled source dataset of `config.source`, loaded like
// LoadTrainData (no structure renders needed). Throws std::runtime_error naming the dataset when its train split
// lacks identity labels or has fewer than 2 identities, or naming warmup.num_negatives when the source has fewer
// other-identity images than K.
data::ReidDataset LoadSourceData(const proto::TrainConfig& config, const std::string& working_dir);

// Backends of one run writing their side outputs (view grids, exports) under recorder->run_dir(). `config` must
// be resolved (ResolveTrainConfig). `source_dataset` (UDA mode only, from LoadSourceData) becomes the warm-up's
// set (JobBackends::warmup_set): stage 1 then trains E_id on it with its identity labels.
actors::JobBackends MakeJobBackends(const proto::TrainConfig& config, std::shared_ptr<const data::ReidDataset> dataset,
                                    std::shared_ptr<RunRecorder> recorder,
                                    std::shared_ptr<const data::ReidDataset> source_dataset = nullptr);

}  // namespace gcl::training

#endif  // GCL_TRAINING_GCL_BACKENDS_H_

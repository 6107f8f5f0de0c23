// The training program's configuration (proto/train_config.proto): text-format files from configs/,
// command-line overrides, defaults and range checks.
//
//   proto::TrainConfig config = gcl::training::LoadTrainConfig("configs/quick.pbtxt");   // throws on a parse error
//   gcl::training::ApplyOverride("run.joint_epochs=3", &config);                        // throws on an unknown key
//   config = gcl::training::ResolveTrainConfig(config);  // defaults + checks; throws naming the field
//   std::string text = gcl::training::TrainConfigToText(config);  // what runs/<name>/config.pbtxt holds
#ifndef GCL_TRAINING_TRAIN_CONFIG_H_
#define GCL_TRAINING_TRAIN_CONFIG_H_

#include <string>

#include "proto/train_config.pb.h"

namespace gcl::training {

inline constexpr uint32_t kTrainConfigVersion = 1;

// The file a preset name or path names (`--config=NAME|FILE` of train and node): a name without '/' and ".pbtxt"
// is looked up as configs/<name>.pbtxt in the current folder (the runfiles under `bazel run`) and then in
// `working_dir`; a relative path resolves against `working_dir`. Throws naming the preset when it does not exist.
std::string FindTrainConfig(const std::string& name_or_path, const std::string& working_dir);

// Parses a text-format TrainConfig; throws std::runtime_error naming `path` and the parser's line:column message
// (an unknown field is a parse error that names it).
proto::TrainConfig LoadTrainConfig(const std::string& path);

// Parses text-format TrainConfig text; `source` names it in errors.
proto::TrainConfig ParseTrainConfig(const std::string& text, const std::string& source);

// Applies one `field.path=value` override (e.g. "run.joint_epochs=3", "data.dataset=market1501",
// "optim.identity_milestones=10,15", "ablation.joint_mode=GENERATION_ONLY"). Throws std::runtime_error naming the
// key when the field does not exist or the value does not parse for its type.
void ApplyOverride(const std::string& assignment, proto::TrainConfig* config);

// `config` with every 0 / empty field set to its documented default, then checked: throws std::runtime_error
// naming the field (e.g. "TrainConfig.optim.identity_lr: must be > 0, got -1") for an out-of-range value.
proto::TrainConfig ResolveTrainConfig(proto::TrainConfig config);

std::string TrainConfigToText(const proto::TrainConfig& config);

// Whether model.identity_init names a TF.js graph model (a bundled MoveNet name, models/tfjs/bundled_models.h, or a
// path ending in ".json") rather than a checkpoint.
bool IsTfjsIdentityInit(const std::string& identity_init);

// The stage-3 weights of the three view-invariant terms (paper §3.2 names) that a resolved `ablation` selects:
// 1 for a term trained, 0 for one left out (ablation.view_invariant_terms; all 0 for GENERATION_ONLY). They
// multiply optim.memory_weight (LossWeights::vi_*).
struct ViewInvariantTermWeights {
  double l_vi = 1;               // Eq. 6, LossWeights::vi_cluster_original
  double l_vi_prime = 1;         // Eq. 7, LossWeights::vi_instance
  double l_vi_double_prime = 1;  // Eq. 8, LossWeights::vi_cluster_generated
};
ViewInvariantTermWeights TermWeightsOf(const proto::AblationConfig& ablation);

}  // namespace gcl::training

#endif  // GCL_TRAINING_TRAIN_CONFIG_H_

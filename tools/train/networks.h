// The networks of a training run built from its TrainConfig, and read back from one of its checkpoints (what
// `//tools/generate` uses to draw novel views with a trained run).
//
//   proto::TrainConfig config = ResolveTrainConfig(LoadTrainConfig("runs/quick/config.pbtxt"));
//   training::GclNetworks nets = BuildNetworks(config, torch::kCPU);
//   RestoreNetworks(ReadCheckpointFile("runs/quick/checkpoints"), &nets);   // a folder (its LATEST) or a file
#ifndef GCL_TOOLS_TRAIN_NETWORKS_H_
#define GCL_TOOLS_TRAIN_NETWORKS_H_

#include <torch/torch.h>

#include <string>

#include "proto/checkpoint.pb.h"
#include "proto/train_config.pb.h"
#include "training/joint_step.h"

namespace gcl::train {

// E_id (from model.identity_init when set), E_str + G and D with the sizes of `config.model` on `device`.
training::GclNetworks BuildNetworks(const proto::TrainConfig& config, const c10::Device& device);

// Copies the checkpoint's "E_id", "G" and "D" states into `nets`; throws std::runtime_error naming the network
// and tensor when one is missing or has another shape.
void RestoreNetworks(const proto::Checkpoint& checkpoint, training::GclNetworks* nets);

// Reads a checkpoint file, or the one a checkpoint folder's LATEST names. Throws std::runtime_error naming it.
proto::Checkpoint ReadCheckpointFile(const std::string& path);

}  // namespace gcl::train

#endif  // GCL_TOOLS_TRAIN_NETWORKS_H_

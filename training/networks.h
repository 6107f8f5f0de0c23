// The networks of a training run built from its TrainConfig, and read back from one of its checkpoints (what
// `//tools/generate` uses to draw novel views with a trained run).
//
//   proto::TrainConfig config = ResolveTrainConfig(LoadTrainConfig("runs/quick/config.pbtxt"));
//   GclNetworks nets = BuildNetworks(config, torch::kCPU);
//   RestoreNetworks(ReadCheckpointFile("runs/quick/checkpoints"), &nets);   // a folder (its LATEST) or a file
#ifndef GCL_TRAINING_NETWORKS_H_
#define GCL_TRAINING_NETWORKS_H_

#include <torch/torch.h>

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "proto/checkpoint.pb.h"
#include "proto/train_config.pb.h"
#include "training/joint_step.h"

namespace gcl::training {

// E_id (from model.identity_init when set), E_str + G and D with the sizes of `config.model` on `device`.
GclNetworks BuildNetworks(const proto::TrainConfig& config, const c10::Device& device);

// Copies the checkpoint's "E_id", "G" and "D" states into `nets`; throws std::runtime_error naming the network
// and tensor when one is missing or has another shape.
void RestoreNetworks(const proto::Checkpoint& checkpoint, GclNetworks* nets);

// Reads a checkpoint file, or the one a checkpoint folder's LATEST names. Throws std::runtime_error naming it.
proto::Checkpoint ReadCheckpointFile(const std::string& path);

// A picture of novel views (paper Fig. 1), 8-bit BGR: one row per input image, the input first, then
// G(E_str(structure at angle a), E_id part code of the input) for each of `angles`, under a header naming the
// columns. `images`: N x 3 x H x W, ImageNet-normalised; `structures`: N x A x 1 x H x W, normalised to [-1, 1].
// Runs E_id and G in eval mode without gradients and restores their modes.
cv::Mat NovelViewGrid(GclNetworks& nets, const torch::Tensor& images, const torch::Tensor& structures,
                      const std::vector<int>& angles, const c10::Device& device);

}  // namespace gcl::training

#endif  // GCL_TRAINING_NETWORKS_H_

// Weights of the identity encoder E_id in and out (reference §2.1, §14 "Stage 1"):
//   - import an ImageNet ResNet (torchvision or timm `.pth` / `.safetensors`: conv1, bn1, layer1..4, fc) into
//     the backbone, or a JVTC-style stage-1 checkpoint (conv1..layer4 plus `feat`, `feat_bn`; possibly under
//     `state_dict` and/or with a `module.` prefix) into the whole encoder. Keys the encoder lacks (fc,
//     classifier...) are ignored and listed in the report; a missing or mis-shaped key is an error naming the key
//     and both shapes.
//   - export the encoder for inference as safetensors with the options in `__metadata__`, and load it back
//     without knowing the options (what tools/extract reads).
//
//   gcl::models::IdentityEncoder net(options);
//   gcl::models::ImportIdentityEncoderWeights(net, "jvtc_market.pth", gcl::models::IdentityWeights::kFull);
//   gcl::models::ExportIdentityEncoder(net, "eid.safetensors");
//   gcl::models::IdentityEncoder back = gcl::models::LoadExportedIdentityEncoder("eid.safetensors");
#ifndef GCL_MODELS_IDENTITY_ENCODER_IO_H_
#define GCL_MODELS_IDENTITY_ENCODER_IO_H_

#include <string>

#include "models/identity_encoder.h"
#include "models/state_dict.h"

namespace gcl::models {

enum class IdentityWeights {
  kBackbone,  // ImageNet classifier: conv1..layer4 required, feat/feat_bn keep their init
  kFull,      // stage-1 (JVTC) checkpoint or an export: every key required
  kAuto,      // kFull when the checkpoint has `feat.weight` (after prefix stripping), else kBackbone
};

// Reads `path` (.pth or .safetensors, by content) and loads it into `net`. Throws std::runtime_error naming the
// file and key on a missing or mis-shaped key.
LoadReport ImportIdentityEncoderWeights(IdentityEncoder& net, const std::string& path, IdentityWeights mode);
LoadReport ImportIdentityEncoderWeights(IdentityEncoder& net, const Checkpoint& checkpoint, IdentityWeights mode,
                                        const std::string& source);

// Writes all parameters and buffers of `net` as safetensors with metadata
// {format: gcl.identity_encoder, depth, width, last_stride_one, num_parts, embedding_dim, backbone,
// mobilenet_width} (exports without `backbone` are read as ResNets). frozen_batch_norm is a training choice and is
// not stored; a loaded export is in eval mode.
void ExportIdentityEncoder(const IdentityEncoder& net, const std::string& path);

// Options stored by ExportIdentityEncoder; throws std::runtime_error naming the file and field when the metadata
// is missing or malformed.
IdentityEncoderOptions ExportedIdentityEncoderOptions(const Checkpoint& checkpoint, const std::string& source);

// Builds an encoder from an export's metadata and loads every tensor (in eval mode, on the CPU).
IdentityEncoder LoadExportedIdentityEncoder(const std::string& path);

}  // namespace gcl::models

#endif  // GCL_MODELS_IDENTITY_ENCODER_IO_H_

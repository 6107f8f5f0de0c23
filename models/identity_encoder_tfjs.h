// E_id's MobileNetV2 backbone (models/identity_encoder.h, backbone kMobileNetV2) initialised from the MobileNetV2
// inside a TF.js MoveNet graph (models/tfjs/graph_model.h): MoveNet-Thunder (width 1.75) or -Lightning (1.0),
// Google's single-person pose models, whose backbones were trained on people.
//
//   gcl::models::IdentityEncoderOptions o;
//   o.backbone = gcl::models::Backbone::kMobileNetV2;
//   o.mobilenet_width = 1.75;
//   o.frozen_batch_norm = true;
//   gcl::models::IdentityEncoder net(o);
//   gcl::models::ImportMoveNetBackbone(net, gcl::models::tfjs::ReadGraphModel(json), {{0.485, 0.456, 0.406},
//                                                                                     {0.229, 0.224, 0.225}});
//
// What is copied, for each of the 52 convolutions (Keras names Conv1, expanded_conv_*, block_1..16_*, Conv_1 under
// `.../model/` in the graph; the table is MobileNetV2Convs()):
//   - the kernel, HWIO (depthwise [kh, kw, C, 1]) to OIHW ([C, 1, kh, kw]);
//   - batch norm: TF.js graphs carry it folded into the convolution (kernel `*_weights` already scaled, bias
//     `*_bn_offset`). E_id keeps real BatchNorm2d layers so that they can be fine-tuned; they are set to pass the
//     folded bias through: weight 1, bias = the offset, running mean 0, running variance 1 - eps (so that
//     sqrt(var + eps) = 1). In eval mode, or with frozen_batch_norm in train mode, the layer then adds the bias
//     and E_id's backbone computes MoveNet's. (Train-mode BatchNorm would normalise each channel by batch
//     statistics instead, which the folded weights were never trained for: the import is meant to be used with
//     frozen_batch_norm.)
//   - the input: MoveNet maps the 0..255 picture through the affine nodes in front of Conv1 ((x - 0) / 127.5 - 1);
//     E_id receives `(x / 255 - mean) / std`. The composition of the two is stored in `input_scale` /
//     `input_shift`, read from the graph's own constants.
// Every convolution's op, stride, padding and activation in the graph is checked against the module before
// anything is copied; a width mismatch names the width the file has. The stride of block 13 may differ (1 with
// last_stride_one, 2 in MoveNet): the same kernel then samples the map densely.
// feat / feat_bn (the ReID head) keep their initialisation.
#ifndef GCL_MODELS_IDENTITY_ENCODER_TFJS_H_
#define GCL_MODELS_IDENTITY_ENCODER_TFJS_H_

#include <array>
#include <string>

#include "models/identity_encoder.h"
#include "models/tfjs/graph_model.h"

namespace gcl::models {

// The normalisation of E_id's input: x = (rgb / 255 - mean) / std per channel (data/pipeline's ImageNet values).
struct InputNormalization {
  std::array<double, 3> mean;
  std::array<double, 3> std;
};

struct TfjsImportReport {
  std::string prefix;  // the graph's name scope of the backbone, e.g. ".../model_1/model/"
  int convolutions = 0;
  double file_width = 0;  // width multiplier of the file's backbone (Conv1's channels / 32)
};

// Throws std::runtime_error naming the model file and the weight or node when `net` is not a MobileNetV2 E_id,
// the graph has no MobileNetV2 backbone, a node disagrees with the module, or a shape differs.
TfjsImportReport ImportMoveNetBackbone(IdentityEncoder& net, const tfjs::GraphModel& model,
                                       const InputNormalization& input);

// The width multiplier of the MobileNetV2 in a TF.js graph (its Conv1 channels / 32), for a config that leaves it
// to the file; throws naming the file when it has no MobileNetV2 backbone.
double MoveNetBackboneWidth(const tfjs::GraphModel& model);

}  // namespace gcl::models

#endif  // GCL_MODELS_IDENTITY_ENCODER_TFJS_H_

// Identity encoder E_id: a torchvision-layout ResNet with last stride 1 and two heads on its last feature map
// (reference §2.1, the JVTC-compatible `ft_net`):
//   - the generative part code: AdaptiveAvgPool2d((num_parts, 1)) flattened channel-major (index = c*parts+p),
//     2048x4 -> 8192 for ResNet-50, the appearance code that drives the decoder's AdaIN MLPs;
//   - the ReID embedding: global average pool -> Linear(C_last, 512, bias) -> BatchNorm1d(512); the test
//     feature is its L2-normalised output.
// Submodule names are torchvision's (`conv1`, `bn1`, `layer1`..`layer4`) plus JVTC's `feat`, `feat_bn`, so
// ImageNet and stage-1 checkpoints load by name (see models/identity_encoder_io.h).
//
//   gcl::models::IdentityEncoder net(gcl::models::IdentityEncoderOptions{});
//   net->eval();
//   torch::Tensor f = net->forward(images);   // B x 512, unit L2 norm
//
// `width` scales every ResNet channel count (a CPU quick preset uses 0.25); width 1 is the reference network.
//
// Backbone option (not in the reference): `backbone = kMobileNetV2` replaces the ResNet with MobileNetV2's features
// (models/mobilenet_v2.h, torchvision's names `features.*`, 1280 channels out), keeping the same two heads, so E_id
// trains, checkpoints and exports alike. It exists to start E_id from MoveNet's person-trained backbone
// (models/identity_encoder_tfjs.h); a fixed per-channel affine map (`input_scale`, `input_shift` buffers; identity
// unless an import sets them) turns E_id's ImageNet-normalised input into the input that backbone was trained on.
// `frozen_batch_norm` keeps the backbone's BatchNorm2d layers in eval mode even in train(): their running
// statistics stay fixed while their affine weights and the convolutions train (detectron2's FrozenBatchNorm), which
// is what keeps imported weights with batch norm folded in computing what they computed (see the import header).
#ifndef GCL_MODELS_IDENTITY_ENCODER_H_
#define GCL_MODELS_IDENTITY_ENCODER_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace gcl::models {

enum class Backbone {
  kResNet,       // torchvision ResNet (reference §2.1)
  kMobileNetV2,  // MobileNetV2 features with TensorFlow's SAME padding (our option, for MoveNet weights)
};

struct IdentityEncoderOptions {
  Backbone backbone = Backbone::kResNet;
  int depth = 50;                // ResNet depth: 18, 34 (basic blocks), 50, 101 (bottlenecks)
  double width = 1.0;            // multiplier on every ResNet channel count; 64*width must be a whole number
  double mobilenet_width = 1.0;  // MobileNetV2 width multiplier (MoveNet-Thunder 1.75, MoveNet-Lightning 1.0)
  // Reference §2.1: the last stride-2 stage keeps stride 1. ResNet: layer4 (16x8 map at 256x128); MobileNetV2: block
  // 13, `features.14` (also 16x8 instead of 8x4).
  bool last_stride_one = true;
  bool frozen_batch_norm = false;  // backbone BatchNorm2d always in eval mode (see above)
  int num_parts = 4;               // horizontal stripes of the part code (reference: 4)
  int embedding_dim = 512;         // width of the Linear+BN1d ReID head (reference: 512)
};

// "resnet" / "mobilenet_v2", and back; ParseBackbone throws naming the value for anything else.
std::string BackboneName(Backbone backbone);
Backbone ParseBackbone(const std::string& name);

// Throws std::runtime_error naming the field when an option is out of range.
void ValidateIdentityEncoderOptions(const IdentityEncoderOptions& o);

struct IdentityOutput {
  torch::Tensor part_code;  // B x (C_last*num_parts), channel-major (index = c*num_parts + stripe)
  torch::Tensor embedding;  // B x embedding_dim BatchNorm1d output, NOT normalised (reference mode 'fix')
};

class IdentityEncoderImpl : public torch::nn::Module {
 public:
  explicit IdentityEncoderImpl(IdentityEncoderOptions o = {});

  // Reference mode 'fix': part code and un-normalised BN-neck embedding.
  IdentityOutput forward_parts(const torch::Tensor& x);
  // Reference mode 'display': the part code only (skips the ReID head).
  torch::Tensor part_code(const torch::Tensor& x);
  // The test feature: L2-normalised embedding (reference mode None in eval).
  torch::Tensor forward(const torch::Tensor& x);
  // The last backbone feature map, B x C_last x H/16 x W/16 (last stride 1) or H/32 x W/32 (MobileNetV2: rounded
  // up, as TensorFlow's SAME padding does).
  torch::Tensor backbone(const torch::Tensor& x);

  // Module::train, then the backbone's BatchNorm2d layers back to eval mode when frozen_batch_norm is set.
  void train(bool on = true) override;

  int64_t part_code_dim() const { return last_channels_ * options_.num_parts; }
  int64_t last_channels() const { return last_channels_; }
  const IdentityEncoderOptions& options() const { return options_; }

 private:
  void RegisterHeads();  // feat, feat_bn on last_channels_
  void InitHeads();      // their init (after the backbone's, in the order the ResNet encoder always drew it)

  IdentityEncoderOptions options_;
  int64_t last_channels_ = 0;
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::Sequential features{nullptr};        // MobileNetV2
  torch::Tensor input_scale, input_shift;         // MobileNetV2: 3 values each, x * scale + shift per channel
  torch::nn::Linear feat{nullptr};
  torch::nn::BatchNorm1d feat_bn{nullptr};
};
TORCH_MODULE(IdentityEncoder);

}  // namespace gcl::models

#endif  // GCL_MODELS_IDENTITY_ENCODER_H_

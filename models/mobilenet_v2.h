// MobileNetV2's feature extractor (Sandler et al., CVPR 2018) as the E_id backbone option, in torchvision's module
// layout (`features.0` .. `features.18`: stem ConvBNReLU, 17 inverted residual blocks with their `conv`
// sequences, final 1x1 ConvBNReLU), but with TensorFlow's "SAME" padding (models/tf_same_padding.h) so that weights
// trained in TensorFlow, such as MoveNet's backbone (models/identity_encoder_tfjs.h), compute what they computed
// there.
//
//   torch::nn::Sequential features = gcl::models::MakeMobileNetV2Features({/*width=*/1.75, /*last_stride_one=*/true});
//   torch::Tensor map = features->forward(images);   // B x 1280 x H/16 x W/16
//
// Channel counts are torchvision's and Keras's: every width times `width`, rounded to a multiple of 8
// (MakeDivisible). The last 1x1 convolution has 1280 channels at every width, as MoveNet's backbones have (Keras and
// torchvision widen it above width 1; MoveNet-Thunder, width 1.75, does not).
#ifndef GCL_MODELS_MOBILENET_V2_H_
#define GCL_MODELS_MOBILENET_V2_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gcl::models {

struct MobileNetV2Options {
  double width = 1.0;            // channel multiplier (MoveNet-Thunder 1.75, MoveNet-Lightning 1.0)
  bool last_stride_one = false;  // block 13 (features.14) keeps stride 1: output stride 16 instead of 32
};

inline constexpr int64_t kMobileNetV2LastChannels = 1280;

// torchvision's / Keras's _make_divisible: `value` rounded to the nearest multiple of `divisor` (at least
// `divisor`), never more than 10 % below `value`.
int64_t MakeDivisible(double value, int64_t divisor = 8);

// A convolution without bias whose padding is TensorFlow's "SAME" for the input it is given (computed per call, so
// any input size is padded as TensorFlow would). Its parameter is `weight` (OIHW), as torch::nn::Conv2d's, so state
// dicts keep torchvision's names.
class TfSameConv2dImpl : public torch::nn::Module {
 public:
  TfSameConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups);
  torch::Tensor forward(const torch::Tensor& x);
  int64_t stride() const { return stride_; }
  int64_t groups() const { return groups_; }

  torch::Tensor weight;

 private:
  int64_t stride_, groups_;
};
TORCH_MODULE(TfSameConv2d);

// The features: 19 modules whose output is B x 1280 x ceil(H/32) x ceil(W/32) (ceil(/16) with last_stride_one).
// Convolutions Kaiming-normal (fan_out) as torchvision initialises MobileNetV2, BatchNorm weight 1, bias 0.
torch::nn::Sequential MakeMobileNetV2Features(const MobileNetV2Options& options);

// One convolution of the network with its BatchNorm, under both names: what Keras's MobileNetV2 calls it (the
// names in TF.js graphs, e.g. "block_3_depthwise") and where it sits here (e.g. "features.4.conv.1").
struct MobileNetV2Conv {
  std::string tf_name;      // "Conv1", "expanded_conv_depthwise", "block_5_expand", ..., "Conv_1"
  std::string conv;         // module path of the TfSameConv2d, e.g. "features.4.conv.1.0"
  std::string batch_norm;   // module path of its BatchNorm2d, e.g. "features.4.conv.1.1"
  bool depthwise = false;
  int64_t tf_stride = 1;    // the stride in the published network (block 13 has 2 even with last_stride_one)
  bool relu6 = false;       // followed by ReLU6 (every conv except the linear projections)
};
std::vector<MobileNetV2Conv> MobileNetV2Convs();

}  // namespace gcl::models

#endif  // GCL_MODELS_MOBILENET_V2_H_

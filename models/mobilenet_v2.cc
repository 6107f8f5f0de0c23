#include "models/mobilenet_v2.h"

#include <cmath>
#include <stdexcept>

#include "models/tf_same_padding.h"

namespace gcl::models {
namespace {

// MobileNetV2's inverted residual stages (Sandler et al., Table 2): expansion t, channels c, blocks n, stride s.
struct Stage {
  int64_t expansion, channels, blocks, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};
constexpr int64_t kStemChannels = 32;
// Block 13 (0-based, Keras's "block_13"), the first of the 160-channel stage: the network's last stride 2.
constexpr int kLastStridedBlock = 13;

// A Sequential that can sit inside another one: LibTorch's AnyModule cannot hold Sequential's templated forward.
class ChainImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(Chain);

// torchvision's ConvBNReLU (`<i>.0` conv, `<i>.1` BatchNorm, ReLU6).
Chain ConvBnRelu6(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups) {
  return Chain(TfSameConv2d(in, out, kernel, stride, groups), torch::nn::BatchNorm2d(out), torch::nn::ReLU6());
}

class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(int64_t in, int64_t out, int64_t stride, int64_t expansion)
      : residual_(stride == 1 && in == out) {
    const auto hidden = static_cast<int64_t>(std::llround(static_cast<double>(in * expansion)));
    torch::nn::Sequential layers;
    if (expansion != 1) layers->push_back(ConvBnRelu6(in, hidden, 1, 1, 1));
    layers->push_back(ConvBnRelu6(hidden, hidden, 3, stride, hidden));
    layers->push_back(TfSameConv2d(hidden, out, 1, 1, 1));
    layers->push_back(torch::nn::BatchNorm2d(out));
    conv_ = register_module("conv", layers);
  }
  torch::Tensor forward(const torch::Tensor& x) { return residual_ ? x + conv_->forward(x) : conv_->forward(x); }

 private:
  bool residual_;
  torch::nn::Sequential conv_{nullptr};
};
TORCH_MODULE(InvertedResidual);

}  // namespace

int64_t MakeDivisible(double value, int64_t divisor) {
  const auto d = static_cast<double>(divisor);
  auto rounded = std::max(divisor, static_cast<int64_t>(value + d / 2) / divisor * divisor);
  if (static_cast<double>(rounded) < 0.9 * value) rounded += divisor;
  return rounded;
}

TfSameConv2dImpl::TfSameConv2dImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups)
    : stride_(stride), groups_(groups) {
  if (in % groups != 0 || out % groups != 0) {
    throw std::runtime_error("TfSameConv2d: " + std::to_string(in) + " -> " + std::to_string(out) +
                             " channels are not divisible into " + std::to_string(groups) + " groups");
  }
  weight = register_parameter("weight", torch::empty({out, in / groups, kernel, kernel}));
  // torchvision's MobileNetV2 init: kaiming_normal_(mode='fan_out').
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor TfSameConv2dImpl::forward(const torch::Tensor& x) {
  const SamePadding h = ComputeSamePadding(x.size(2), weight.size(2), stride_);
  const SamePadding w = ComputeSamePadding(x.size(3), weight.size(3), stride_);
  if (h.before == h.after && w.before == w.after) {
    return torch::conv2d(x, weight, {}, stride_, torch::IntArrayRef({h.before, w.before}), 1, groups_);
  }
  return torch::conv2d(torch::constant_pad_nd(x, {w.before, w.after, h.before, h.after}), weight, {}, stride_,
                       torch::IntArrayRef({0, 0}), 1, groups_);
}

torch::nn::Sequential MakeMobileNetV2Features(const MobileNetV2Options& options) {
  if (!(options.width > 0)) {
    throw std::runtime_error("MobileNetV2Options.width: " + std::to_string(options.width) + " must be positive");
  }
  torch::nn::Sequential features;
  int64_t in = MakeDivisible(kStemChannels * options.width);
  features->push_back(ConvBnRelu6(3, in, 3, 2, 1));
  int block = 0;
  for (const Stage& stage : kStages) {
    const int64_t out = MakeDivisible(static_cast<double>(stage.channels) * options.width);
    for (int64_t i = 0; i < stage.blocks; ++i, ++block) {
      int64_t stride = i == 0 ? stage.stride : 1;
      if (block == kLastStridedBlock && options.last_stride_one) stride = 1;
      features->push_back(InvertedResidual(in, out, stride, stage.expansion));
      in = out;
    }
  }
  features->push_back(ConvBnRelu6(in, kMobileNetV2LastChannels, 1, 1, 1));
  return features;
}

std::vector<MobileNetV2Conv> MobileNetV2Convs() {
  std::vector<MobileNetV2Conv> convs;
  convs.push_back({"Conv1", "features.0.0", "features.0.1", false, 2, true});
  int block = 0;
  for (const Stage& stage : kStages) {
    for (int64_t i = 0; i < stage.blocks; ++i, ++block) {
      const std::string tf = block == 0 ? "expanded_conv_" : "block_" + std::to_string(block) + "_";
      const std::string at = "features." + std::to_string(block + 1) + ".conv.";
      const int64_t stride = i == 0 ? stage.stride : 1;
      if (stage.expansion == 1) {
        convs.push_back({tf + "depthwise", at + "0.0", at + "0.1", true, stride, true});
        convs.push_back({tf + "project", at + "1", at + "2", false, 1, false});
      } else {
        convs.push_back({tf + "expand", at + "0.0", at + "0.1", false, 1, true});
        convs.push_back({tf + "depthwise", at + "1.0", at + "1.1", true, stride, true});
        convs.push_back({tf + "project", at + "2", at + "3", false, 1, false});
      }
    }
  }
  convs.push_back({"Conv_1", "features.18.0", "features.18.1", false, 1, true});
  return convs;
}

}  // namespace gcl::models

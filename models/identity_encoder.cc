#include "models/identity_encoder.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "models/mobilenet_v2.h"

namespace gcl::models {
namespace {

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// torchvision's BasicBlock (ResNet-18/34): 3x3 (stride) -> 3x3, identity or 1x1 projection shortcut.
class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t in, int64_t planes, int64_t stride) {
    conv1 = register_module("conv1", Conv(in, planes, 3, stride, 1));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
    conv2 = register_module("conv2", Conv(planes, planes, 3, 1, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
    if (stride != 1 || in != planes) {
      downsample = register_module(
          "downsample", torch::nn::Sequential(Conv(in, planes, 1, stride, 0), torch::nn::BatchNorm2d(planes)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = bn2(conv2(y));
    return torch::relu(y + (downsample ? downsample->forward(x) : x));
  }

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

// torchvision's Bottleneck (ResNet V1.5, stride on the 3x3 conv): 1x1 -> 3x3 (stride) -> 1x1 (x4).
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in, int64_t planes, int64_t stride) {
    const int64_t out = planes * kExpansion;
    conv1 = register_module("conv1", Conv(in, planes, 1, 1, 0));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(planes));
    conv2 = register_module("conv2", Conv(planes, planes, 3, stride, 1));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(planes));
    conv3 = register_module("conv3", Conv(planes, out, 1, 1, 0));
    bn3 = register_module("bn3", torch::nn::BatchNorm2d(out));
    if (stride != 1 || in != out) {
      downsample = register_module(
          "downsample", torch::nn::Sequential(Conv(in, out, 1, stride, 0), torch::nn::BatchNorm2d(out)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = torch::relu(bn2(conv2(y)));
    y = bn3(conv3(y));
    return torch::relu(y + (downsample ? downsample->forward(x) : x));
  }

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

std::array<int, 4> BlocksPerStage(int depth) {
  switch (depth) {
    case 18: return {2, 2, 2, 2};
    case 34: return {3, 4, 6, 3};
    case 50: return {3, 4, 6, 3};
    case 101: return {3, 4, 23, 3};
    default:
      throw std::runtime_error("IdentityEncoderOptions.depth: " + std::to_string(depth) +
                               " is not one of 18, 34, 50, 101");
  }
}

template <typename Block>
torch::nn::Sequential MakeStage(int64_t* in, int64_t planes, int blocks, int64_t stride) {
  torch::nn::Sequential stage;
  for (int i = 0; i < blocks; ++i) {
    stage->push_back(Block(*in, planes, i == 0 ? stride : 1));
    *in = planes * Block::Impl::kExpansion;
  }
  return stage;
}

}  // namespace

std::string BackboneName(Backbone backbone) {
  return backbone == Backbone::kMobileNetV2 ? "mobilenet_v2" : "resnet";
}

Backbone ParseBackbone(const std::string& name) {
  if (name == "resnet") return Backbone::kResNet;
  if (name == "mobilenet_v2") return Backbone::kMobileNetV2;
  throw std::runtime_error("backbone '" + name + "' is not one of resnet, mobilenet_v2");
}

void ValidateIdentityEncoderOptions(const IdentityEncoderOptions& o) {
  if (o.backbone == Backbone::kMobileNetV2 && !(o.mobilenet_width > 0)) {
    throw std::runtime_error("IdentityEncoderOptions.mobilenet_width: " + std::to_string(o.mobilenet_width) +
                             " must be positive");
  }
  BlocksPerStage(o.depth);
  const double stem = 64.0 * o.width;
  if (!(o.width > 0) || std::abs(stem - std::round(stem)) > 1e-9) {
    throw std::runtime_error("IdentityEncoderOptions.width: " + std::to_string(o.width) +
                             " must be positive with 64*width a whole number");
  }
  if (o.num_parts < 1) {
    throw std::runtime_error("IdentityEncoderOptions.num_parts: " + std::to_string(o.num_parts) +
                             " must be >= 1");
  }
  if (o.embedding_dim < 1) {
    throw std::runtime_error("IdentityEncoderOptions.embedding_dim: " + std::to_string(o.embedding_dim) +
                             " must be >= 1");
  }
}

IdentityEncoderImpl::IdentityEncoderImpl(IdentityEncoderOptions o) : options_(o) {
  ValidateIdentityEncoderOptions(o);
  if (o.backbone == Backbone::kMobileNetV2) {
    features = register_module("features", MakeMobileNetV2Features({o.mobilenet_width, o.last_stride_one}));
    input_scale = register_buffer("input_scale", torch::ones({3}));
    input_shift = register_buffer("input_shift", torch::zeros({3}));
    last_channels_ = kMobileNetV2LastChannels;
    RegisterHeads();
    InitHeads();
    if (o.frozen_batch_norm) train(is_training());
    return;
  }
  const std::array<int, 4> blocks = BlocksPerStage(o.depth);
  const auto base = static_cast<int64_t>(std::llround(64.0 * o.width));
  conv1 = register_module("conv1", Conv(3, base, 7, 2, 3));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(base));
  int64_t in = base;
  const int64_t last_stride = o.last_stride_one ? 1 : 2;
  if (o.depth >= 50) {
    layer1 = MakeStage<Bottleneck>(&in, base, blocks[0], 1);
    layer2 = MakeStage<Bottleneck>(&in, base * 2, blocks[1], 2);
    layer3 = MakeStage<Bottleneck>(&in, base * 4, blocks[2], 2);
    layer4 = MakeStage<Bottleneck>(&in, base * 8, blocks[3], last_stride);
  } else {
    layer1 = MakeStage<BasicBlock>(&in, base, blocks[0], 1);
    layer2 = MakeStage<BasicBlock>(&in, base * 2, blocks[1], 2);
    layer3 = MakeStage<BasicBlock>(&in, base * 4, blocks[2], 2);
    layer4 = MakeStage<BasicBlock>(&in, base * 8, blocks[3], last_stride);
  }
  register_module("layer1", layer1);
  register_module("layer2", layer2);
  register_module("layer3", layer3);
  register_module("layer4", layer4);
  last_channels_ = in;
  RegisterHeads();

  // torchvision's ResNet init (Kaiming normal, fan_out, for ReLU; BN weight 1, bias 0). The heads use Kaiming
  // fan_out with zero bias; a stage-1 checkpoint overwrites all of it in the reference (§2.1).
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
  InitHeads();
  if (o.frozen_batch_norm) train(is_training());
}

void IdentityEncoderImpl::RegisterHeads() {
  feat = register_module("feat", torch::nn::Linear(last_channels_, options_.embedding_dim));
  feat_bn = register_module("feat_bn", torch::nn::BatchNorm1d(options_.embedding_dim));
}

void IdentityEncoderImpl::InitHeads() {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(feat->weight, 0.0, torch::kFanOut);
  torch::nn::init::zeros_(feat->bias);
  torch::nn::init::ones_(feat_bn->weight);
  torch::nn::init::zeros_(feat_bn->bias);
}

void IdentityEncoderImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (!on || !options_.frozen_batch_norm) return;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) bn->eval();
  }
}

torch::Tensor IdentityEncoderImpl::backbone(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != 3) {
    throw std::runtime_error("IdentityEncoder: input must be B x 3 x H x W, got " + c10::str(x.sizes()));
  }
  if (features) return features->forward(x * input_scale.view({1, 3, 1, 1}) + input_shift.view({1, 3, 1, 1}));
  torch::Tensor y = torch::relu(bn1(conv1(x)));
  y = torch::max_pool2d(y, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  return layer4->forward(layer3->forward(layer2->forward(layer1->forward(y))));
}

namespace {
// AdaptiveAvgPool2d((parts, 1)) then view(B, C*parts): channel-major, index = c*parts + stripe (§2.1).
torch::Tensor PoolParts(const torch::Tensor& map, int64_t parts) {
  return torch::adaptive_avg_pool2d(map, {parts, 1}).reshape({map.size(0), -1});
}
}  // namespace

IdentityOutput IdentityEncoderImpl::forward_parts(const torch::Tensor& x) {
  const torch::Tensor map = backbone(x);
  IdentityOutput out;
  out.part_code = PoolParts(map, options_.num_parts);
  out.embedding = feat_bn(feat(map.mean({2, 3})));
  return out;
}

torch::Tensor IdentityEncoderImpl::part_code(const torch::Tensor& x) {
  return PoolParts(backbone(x), options_.num_parts);
}

torch::Tensor IdentityEncoderImpl::forward(const torch::Tensor& x) {
  return torch::nn::functional::normalize(
      forward_parts(x).embedding, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
}

}  // namespace gcl::models

#include "models/layers.h"

#include <stdexcept>

namespace gcl::models {

torch::Tensor ReferenceLayerNorm(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                                 double eps) {
  if (x.dim() < 2) throw std::runtime_error("ReferenceLayerNorm: input must be B x C x ..., got " + c10::str(x.sizes()));
  const int64_t b = x.size(0);
  const torch::Tensor flat = x.reshape({b, -1});
  std::vector<int64_t> stat_shape(x.dim(), 1);
  stat_shape[0] = b;
  const torch::Tensor mean = flat.mean(1).view(stat_shape);
  const torch::Tensor std = flat.std(1, /*unbiased=*/true).view(stat_shape);
  std::vector<int64_t> affine_shape(x.dim(), 1);
  affine_shape[1] = x.size(1);
  return (x - mean) / (std + eps) * gamma.view(affine_shape) + beta.view(affine_shape);
}

torch::Tensor AdaptiveInstanceNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                   double eps) {
  if (x.dim() != 4) throw std::runtime_error("AdaptiveInstanceNorm: input must be B x C x H x W, got " + c10::str(x.sizes()));
  const int64_t b = x.size(0), c = x.size(1);
  if (weight.sizes() != torch::IntArrayRef({b, c}) || bias.sizes() != torch::IntArrayRef({b, c})) {
    throw std::runtime_error("AdaptiveInstanceNorm: weight and bias must be " + c10::str(torch::IntArrayRef({b, c})) +
                             ", got " + c10::str(weight.sizes()) + " and " + c10::str(bias.sizes()));
  }
  const torch::Tensor mean = x.mean({2, 3}, /*keepdim=*/true);
  const torch::Tensor var = x.var({2, 3}, /*unbiased=*/false, /*keepdim=*/true);
  return (x - mean) * torch::rsqrt(var + eps) * weight.view({b, c, 1, 1}) + bias.view({b, c, 1, 1});
}

LayerNormImpl::LayerNormImpl(int64_t channels, double eps) : eps_(eps) {
  gamma = register_parameter("gamma", torch::rand({channels}));
  beta = register_parameter("beta", torch::zeros({channels}));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) { return ReferenceLayerNorm(x, gamma, beta, eps_); }

Conv2dBlockImpl::Conv2dBlockImpl(const Conv2dBlockOptions& o) : options_(o) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in, o.out, o.kernel)
                                                       .stride(o.stride)
                                                       .dilation(o.dilation)
                                                       .bias(true)));
  if (o.norm == Norm::kLayer) norm = register_module("norm", LayerNorm(o.out));
}

torch::Tensor Conv2dBlockImpl::Activate(const torch::Tensor& x) const {
  return options_.activation == Activation::kLeakyRelu ? torch::leaky_relu(x, 0.2) : x;
}

torch::Tensor Conv2dBlockImpl::forward(const torch::Tensor& x) {
  if (options_.norm == Norm::kAdaIn) {
    throw std::logic_error("Conv2dBlock: an AdaIN block needs forward_adain(x, weight, bias)");
  }
  torch::Tensor y = options_.padding > 0
                        ? torch::reflection_pad2d(x, {options_.padding, options_.padding, options_.padding,
                                                      options_.padding})
                        : x;
  y = conv(y);
  switch (options_.norm) {
    case Norm::kInstance: y = torch::instance_norm(y, {}, {}, {}, {}, /*use_input_stats=*/true, 0.1, 1e-5, false); break;
    case Norm::kLayer: y = norm(y); break;
    default: break;
  }
  return Activate(y);
}

torch::Tensor Conv2dBlockImpl::forward_adain(const torch::Tensor& x, const torch::Tensor& weight,
                                             const torch::Tensor& bias) {
  if (options_.norm != Norm::kAdaIn) throw std::logic_error("Conv2dBlock: forward_adain on a non-AdaIN block");
  const int64_t p = options_.padding;
  torch::Tensor y = conv(p > 0 ? torch::reflection_pad2d(x, {p, p, p, p}) : x);
  return Activate(AdaptiveInstanceNorm(y, weight, bias));
}

ResBlockImpl::ResBlockImpl(int64_t channels, Norm norm) : channels_(channels) {
  Conv2dBlockOptions a;
  a.in = a.out = channels;
  a.kernel = 3;
  a.padding = 1;
  a.norm = norm;
  a.activation = Activation::kLeakyRelu;
  Conv2dBlockOptions b = a;
  b.activation = Activation::kNone;
  first_ = Conv2dBlock(a);
  second_ = Conv2dBlock(b);
  model = register_module("model", torch::nn::ModuleList(first_, second_));
}

torch::Tensor ResBlockImpl::forward(const torch::Tensor& x) { return x + second_(first_(x)); }

torch::Tensor ResBlockImpl::forward_adain(const torch::Tensor& x, const torch::Tensor& weight,
                                          const torch::Tensor& bias) {
  const int64_t c = channels_;
  const torch::Tensor y = first_->forward_adain(x, weight.narrow(1, 0, c), bias.narrow(1, 0, c));
  return x + second_->forward_adain(y, weight.narrow(1, c, c), bias.narrow(1, c, c));
}

ResBlocksImpl::ResBlocksImpl(int num_blocks, int64_t channels, Norm norm) : channels_(channels) {
  model = register_module("model", torch::nn::ModuleList());
  for (int i = 0; i < num_blocks; ++i) {
    blocks_.push_back(ResBlock(channels, norm));
    model->push_back(blocks_.back());
  }
}

torch::Tensor ResBlocksImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = x;
  for (auto& block : blocks_) y = block(y);
  return y;
}

torch::Tensor ResBlocksImpl::forward_adain(const torch::Tensor& x, const torch::Tensor& weight,
                                           const torch::Tensor& bias) {
  const int64_t per_block = 2 * channels_;
  const int64_t need = per_block * static_cast<int64_t>(blocks_.size());
  if (weight.dim() != 2 || weight.size(1) != need || bias.sizes() != weight.sizes()) {
    throw std::runtime_error("ResBlocks: AdaIN weight and bias must be B x " + std::to_string(need) + ", got " +
                             c10::str(weight.sizes()) + " and " + c10::str(bias.sizes()));
  }
  torch::Tensor y = x;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const int64_t start = static_cast<int64_t>(i) * per_block;
    y = blocks_[i]->forward_adain(y, weight.narrow(1, start, per_block), bias.narrow(1, start, per_block));
  }
  return y;
}

}  // namespace gcl::models

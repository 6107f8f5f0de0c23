#include "models/discriminator.h"

#include <stdexcept>
#include <string>

#include "models/layers.h"

namespace gcl::models {
namespace {

Conv2dBlock Block(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  // Fields in declaration order: in, out, kernel, stride, padding, dilation, norm, activation.
  return Conv2dBlock(Conv2dBlockOptions{in, out, kernel, stride, padding, 1, Norm::kNone, Activation::kLeakyRelu});
}

}  // namespace

void ValidateDiscriminatorOptions(const DiscriminatorOptions& o) {
  auto need = [](bool ok, const std::string& field, int value) {
    if (!ok) throw std::runtime_error("DiscriminatorOptions." + field + ": " + std::to_string(value) + " must be >= 1");
  };
  need(o.input_dim >= 1, "input_dim", o.input_dim);
  need(o.dim >= 1, "dim", o.dim);
  need(o.n_layer >= 1, "n_layer", o.n_layer);
  need(o.n_res >= 1, "n_res", o.n_res);
  need(o.num_scales >= 1, "num_scales", o.num_scales);
}

MultiScaleDiscriminatorImpl::MultiScaleDiscriminatorImpl(DiscriminatorOptions o) : options_(o) {
  ValidateDiscriminatorOptions(o);
  cnns = register_module("cnns", torch::nn::ModuleList());
  for (int s = 0; s < o.num_scales; ++s) {
    torch::nn::Sequential net;
    int64_t width = o.dim;
    net->push_back(Block(o.input_dim, width, 1, 1, 0));
    for (int i = 0; i < o.n_layer; ++i) {
      // Only the last stage doubles the width (32 -> 32 -> 64 in the reference, §2.4).
      const int64_t next = i + 1 == o.n_layer ? width * 2 : width;
      net->push_back(Block(width, width, 3, 1, 1));
      net->push_back(Block(width, next, 3, 2, 1));
      width = next;
    }
    net->push_back(ResBlocks(o.n_res, width, Norm::kNone));
    net->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 1, 1)));
    scales_.push_back(net);
    cnns->push_back(net);
  }
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::normal_(conv->weight, 0.0, 0.02);
      torch::nn::init::zeros_(conv->bias);
    }
  }
}

std::vector<torch::Tensor> MultiScaleDiscriminatorImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != options_.input_dim) {
    throw std::runtime_error("MultiScaleDiscriminator: input must be B x " + std::to_string(options_.input_dim) +
                             " x H x W, got " + c10::str(x.sizes()));
  }
  std::vector<torch::Tensor> out;
  torch::Tensor level = x;
  for (size_t s = 0; s < scales_.size(); ++s) {
    out.push_back(scales_[s]->forward(level));
    if (s + 1 < scales_.size()) {
      level = torch::avg_pool2d(level, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1, /*ceil_mode=*/false,
                                /*count_include_pad=*/false);
    }
  }
  return out;
}

}  // namespace gcl::models

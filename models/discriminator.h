// Multi-scale PatchGAN discriminator D (reference §2.4, the reference's `MsImageDis`):
// three identical per-scale networks under `cnns.0`..`cnns.2` (conv1x1 3->32, conv3x3, conv3x3 s2, conv3x3,
// conv3x3 s2 32->64, 4 residual blocks, plain conv1x1 64->1; no norm, LeakyReLU 0.2, reflect padding). Scale
// k+1 sees the input average-pooled by AvgPool2d(3, stride 2, padding 1, count_include_pad=false).
// Init N(0, 0.02), bias 0. The LSGAN + R1 losses live in losses/.
//
//   gcl::models::MultiScaleDiscriminator d(gcl::models::DiscriminatorOptions{});
//   std::vector<torch::Tensor> maps = d->forward(images);  // B x 1 x H/4 x W/4, H/8 x W/8, H/16 x W/16
#ifndef GCL_MODELS_DISCRIMINATOR_H_
#define GCL_MODELS_DISCRIMINATOR_H_

#include <torch/torch.h>

#include <vector>

namespace gcl::models {

struct DiscriminatorOptions {
  int input_dim = 3;   // image channels
  int dim = 32;        // first conv width
  int n_layer = 2;     // stride-2 stages (each: conv3x3 s1 then conv3x3 s2; the last doubles the width)
  int n_res = 4;       // residual blocks at the end of each scale
  int num_scales = 3;  // reference: 3
};

// Throws std::runtime_error naming the field when an option is out of range.
void ValidateDiscriminatorOptions(const DiscriminatorOptions& o);

class MultiScaleDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit MultiScaleDiscriminatorImpl(DiscriminatorOptions o = {});
  // One patch map per scale, finest first.
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  const DiscriminatorOptions& options() const { return options_; }

 private:
  DiscriminatorOptions options_;
  torch::nn::ModuleList cnns{nullptr};
  std::vector<torch::nn::Sequential> scales_;
};
TORCH_MODULE(MultiScaleDiscriminator);

}  // namespace gcl::models

#endif  // GCL_MODELS_DISCRIMINATOR_H_

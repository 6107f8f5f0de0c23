// Building blocks shared by the generator and the discriminator (reference §2.2-2.4):
// the reference's own LayerNorm, adaptive instance normalisation, and the "Conv2dBlock" (explicit pad -> conv
// with bias -> norm -> activation) and residual blocks built from it. State-dict names follow the MUNIT-style
// layout the reference derives from: a block's conv is `conv`, a LayerNorm's affine is `norm.gamma`/`norm.beta`,
// residual stacks hold their blocks under `model`.
#ifndef GCL_MODELS_LAYERS_H_
#define GCL_MODELS_LAYERS_H_

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace gcl::models {

// Reference LayerNorm (§2.3): per sample, mean and UNBIASED std over all C*H*W values,
// y = (x - mean) / (std + eps), then a per-channel affine y*gamma + beta. This is not torch::nn::LayerNorm
// (that one divides by sqrt(biased var + eps)).
torch::Tensor ReferenceLayerNorm(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta,
                                 double eps = 1e-5);

// Adaptive instance normalisation (§2.3): per (sample, channel) mean and BIASED variance over H*W,
// x_hat = (x - mean) / sqrt(var + eps), y = x_hat * weight + bias with weight, bias of shape B x C used as-is
// (no +1 offset). Equals the reference's F.batch_norm on a (1, B*C, H, W) view in training mode.
torch::Tensor AdaptiveInstanceNorm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                   double eps = 1e-5);

class LayerNormImpl : public torch::nn::Module {
 public:
  // gamma ~ U[0,1), beta = 0 (§2.3).
  explicit LayerNormImpl(int64_t channels, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor gamma, beta;

 private:
  double eps_;
};
TORCH_MODULE(LayerNorm);

enum class Norm { kNone, kInstance, kLayer, kAdaIn };
enum class Activation { kNone, kLeakyRelu };  // LeakyReLU slope 0.2 throughout the reference GAN

struct Conv2dBlockOptions {
  int64_t in = 0, out = 0, kernel = 3, stride = 1, padding = 0, dilation = 1;
  Norm norm = Norm::kNone;
  Activation activation = Activation::kLeakyRelu;
};

// Reflect pad -> conv (bias) -> norm -> activation. Norm::kAdaIn needs weight and bias (B x out) per call.
class Conv2dBlockImpl : public torch::nn::Module {
 public:
  explicit Conv2dBlockImpl(const Conv2dBlockOptions& o);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor forward_adain(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);
  torch::nn::Conv2d conv{nullptr};
  LayerNorm norm{nullptr};  // only for Norm::kLayer

 private:
  torch::Tensor Activate(const torch::Tensor& x) const;
  Conv2dBlockOptions options_;
};
TORCH_MODULE(Conv2dBlock);

// Residual block: [conv3x3 -> norm -> lrelu, conv3x3 -> norm] + identity, blocks under `model.0`, `model.1`.
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(int64_t channels, Norm norm);
  torch::Tensor forward(const torch::Tensor& x);
  // Norm::kAdaIn: weight/bias are B x (2*channels); [0, C) drives the first conv, [C, 2C) the second (§2.3).
  torch::Tensor forward_adain(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

 private:
  torch::nn::ModuleList model{nullptr};
  Conv2dBlock first_{nullptr}, second_{nullptr};
  int64_t channels_;
};
TORCH_MODULE(ResBlock);

// A stack of residual blocks under `model.<i>`.
class ResBlocksImpl : public torch::nn::Module {
 public:
  ResBlocksImpl(int num_blocks, int64_t channels, Norm norm);
  torch::Tensor forward(const torch::Tensor& x);
  // weight/bias: B x (num_blocks*2*channels), consumed in module order (res1.conv1, res1.conv2, res2.conv1...).
  torch::Tensor forward_adain(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);
  int num_blocks() const { return static_cast<int>(blocks_.size()); }

 private:
  torch::nn::ModuleList model{nullptr};
  std::vector<ResBlock> blocks_;
  int64_t channels_;
};
TORCH_MODULE(ResBlocks);

}  // namespace gcl::models

#endif  // GCL_MODELS_LAYERS_H_

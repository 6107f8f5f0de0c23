// The generator of GCL (reference §2.2-2.3, the reference's `AdaINGen`):
//   - E_str (`enc_content`): 1-channel structure render -> s, 128 x H/4 x W/4 (conv blocks, 4 residual blocks,
//     ASPP with dilations 3/6/9; InstanceNorm without affine, LeakyReLU 0.2, reflect padding);
//   - 8 MLPs (`mlp_w1..4`, `mlp_b1..4`, 2048->512->512->256) mapping the four contiguous 2048-chunks of E_id's
//     8192-d part code to AdaIN weights and biases;
//   - decoder G (`dec`): 4 AdaIN residual blocks, two (nearest x2 upsample, conv5x5, reference LayerNorm, lrelu)
//     stages, two conv3x3+lrelu and a conv1x1 to 3 channels, unbounded output in ImageNet-normalised space.
// Kaiming-normal init (fan_in, a=0, bias 0) on every conv and linear; LayerNorm gamma ~ U[0,1).
//
//   gcl::models::Generator gen(gcl::models::GeneratorOptions{});
//   torch::Tensor s = gen->encode(structure);         // B x 1 x 256 x 128 -> B x 128 x 64 x 32
//   torch::Tensor x = gen->decode(s, id_out.part_code); // B x 3 x 256 x 128
#ifndef GCL_MODELS_GENERATOR_H_
#define GCL_MODELS_GENERATOR_H_

#include <torch/torch.h>

#include <cstdint>

#include "models/layers.h"

namespace gcl::models {

struct GeneratorOptions {
  int64_t part_code_dim = 8192;  // E_id part code width (C_last * num_parts); split into n_res chunks
  int input_dim = 1;             // structure channels (grey mesh render)
  int dim = 16;                  // E_str first conv width; s has 8*dim channels (ASPP doubles 4*dim)
  int mlp_dim = 512;             // hidden width of each AdaIN MLP
  int n_res = 4;                 // residual blocks in E_str and in the decoder (= number of MLP pairs)
  int output_dim = 3;            // image channels
};

// Throws std::runtime_error naming the field when an option is out of range.
void ValidateGeneratorOptions(const GeneratorOptions& o);

// E_str, reference `ContentEncoder` (§2.2). Blocks under `model.0`..`model.5` (4 conv blocks, residual stack,
// ASPP).
class AsppImpl : public torch::nn::Module {
 public:
  explicit AsppImpl(int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  Conv2dBlock conv1x1{nullptr}, fuse{nullptr};
  torch::nn::Sequential dilated3{nullptr}, dilated6{nullptr}, dilated9{nullptr};
};
TORCH_MODULE(Aspp);

class StructureEncoderImpl : public torch::nn::Module {
 public:
  explicit StructureEncoderImpl(const GeneratorOptions& o);
  torch::Tensor forward(const torch::Tensor& structure);
  int64_t output_dim() const { return output_dim_; }

 private:
  torch::nn::Sequential model{nullptr};
  int64_t input_dim_, output_dim_;
};
TORCH_MODULE(StructureEncoder);

// Decoder G, reference `Decoder` with res_norm 'adain' (§2.3). Blocks under `model.0` (AdaIN residual stack),
// `model.1`, `model.2` (upsampling stages), `model.3`, `model.4` (conv3x3), `model.5` (conv1x1 out).
class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const GeneratorOptions& o);
  // adain_weight/adain_bias: B x (n_res * 2 * C) with C = 8*dim, in module order.
  torch::Tensor forward(const torch::Tensor& s, const torch::Tensor& adain_weight, const torch::Tensor& adain_bias);

 private:
  torch::nn::ModuleList model{nullptr};
  ResBlocks res_{nullptr};
  Conv2dBlock up1_{nullptr}, up2_{nullptr}, conv1_{nullptr}, conv2_{nullptr}, out_{nullptr};
};
TORCH_MODULE(Decoder);

// Linear (bias) -> activation, the Linear under `fc`.
class LinearBlockImpl : public torch::nn::Module {
 public:
  LinearBlockImpl(int64_t in, int64_t out, Activation activation);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc{nullptr};

 private:
  Activation activation_;
};
TORCH_MODULE(LinearBlock);

// MLP: Linear+lrelu, Linear+lrelu, Linear (no norm), layers under `model.<i>.fc`.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t in, int64_t hidden, int64_t out, int blocks = 3);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential model{nullptr};
};
TORCH_MODULE(Mlp);

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(GeneratorOptions o = {});

  // E_str: B x input_dim x H x W -> B x 8*dim x H/4 x W/4 (H, W multiples of 4).
  torch::Tensor encode(const torch::Tensor& structure);
  // G: s (B x 8*dim x h x w) and part code (B x part_code_dim) -> B x output_dim x 4h x 4w, unbounded.
  torch::Tensor decode(const torch::Tensor& s, const torch::Tensor& part_code);
  // AdaIN weights and biases (each B x n_res*2*8*dim): chunk k of the part code through mlp_wk / mlp_bk.
  std::pair<torch::Tensor, torch::Tensor> adain_params(const torch::Tensor& part_code);

  const GeneratorOptions& options() const { return options_; }
  StructureEncoder enc_content{nullptr};
  Decoder dec{nullptr};
  std::vector<Mlp> mlp_w, mlp_b;  // registered as mlp_w1.., mlp_b1..

 private:
  GeneratorOptions options_;
};
TORCH_MODULE(Generator);

}  // namespace gcl::models

#endif  // GCL_MODELS_GENERATOR_H_

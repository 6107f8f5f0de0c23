#include "models/generator.h"

#include <stdexcept>
#include <string>

namespace gcl::models {
namespace {

Conv2dBlock Block(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, Norm norm,
                  Activation act, int64_t dilation = 1) {
  // Fields in declaration order: in, out, kernel, stride, padding, dilation, norm, activation.
  return Conv2dBlock(Conv2dBlockOptions{in, out, kernel, stride, padding, dilation, norm, act});
}

constexpr auto kLrelu = Activation::kLeakyRelu;
constexpr auto kLinear = Activation::kNone;

}  // namespace

LinearBlockImpl::LinearBlockImpl(int64_t in, int64_t out, Activation activation) : activation_(activation) {
  fc = register_module("fc", torch::nn::Linear(in, out));
}

torch::Tensor LinearBlockImpl::forward(const torch::Tensor& x) {
  const torch::Tensor y = fc(x);
  return activation_ == Activation::kLeakyRelu ? torch::leaky_relu(y, 0.2) : y;
}

void ValidateGeneratorOptions(const GeneratorOptions& o) {
  auto need = [](bool ok, const std::string& field, int64_t value, const std::string& rule) {
    if (!ok) {
      throw std::runtime_error("GeneratorOptions." + field + ": " + std::to_string(value) + " " + rule);
    }
  };
  need(o.input_dim >= 1, "input_dim", o.input_dim, "must be >= 1");
  need(o.dim >= 1, "dim", o.dim, "must be >= 1");
  need(o.mlp_dim >= 1, "mlp_dim", o.mlp_dim, "must be >= 1");
  need(o.n_res >= 1, "n_res", o.n_res, "must be >= 1");
  need(o.output_dim >= 1, "output_dim", o.output_dim, "must be >= 1");
  need(o.part_code_dim >= o.n_res && o.part_code_dim % o.n_res == 0, "part_code_dim", o.part_code_dim,
       "must be a positive multiple of n_res=" + std::to_string(o.n_res) + " (one chunk per MLP pair, §2.3)");
}

AsppImpl::AsppImpl(int64_t channels) {
  const int64_t part = channels / 2;  // dim_part: each branch gives half, four branches give 2x channels
  conv1x1 = register_module("conv1x1", Block(channels, part, 1, 1, 0, Norm::kInstance, kLinear));
  auto dilated = [&](int64_t d) {
    return torch::nn::Sequential(Block(channels, part, 1, 1, 0, Norm::kInstance, kLrelu),
                                 Block(part, part, 3, 1, d, Norm::kInstance, kLinear, d));
  };
  dilated3 = register_module("dilated3", dilated(3));
  dilated6 = register_module("dilated6", dilated(6));
  dilated9 = register_module("dilated9", dilated(9));
  fuse = register_module("fuse", Block(4 * part, 4 * part, 1, 1, 0, Norm::kInstance, kLinear));
}

torch::Tensor AsppImpl::forward(const torch::Tensor& x) {
  return fuse(torch::cat({conv1x1(x), dilated3->forward(x), dilated6->forward(x), dilated9->forward(x)}, 1));
}

StructureEncoderImpl::StructureEncoderImpl(const GeneratorOptions& o)
    : input_dim_(o.input_dim), output_dim_(8 * static_cast<int64_t>(o.dim)) {
  const int64_t d = o.dim;
  model = register_module(
      "model", torch::nn::Sequential(Block(o.input_dim, d, 3, 2, 1, Norm::kInstance, kLrelu),
                                     Block(d, 2 * d, 3, 1, 1, Norm::kInstance, kLrelu),
                                     Block(2 * d, 2 * d, 3, 1, 1, Norm::kInstance, kLrelu),
                                     Block(2 * d, 4 * d, 3, 2, 1, Norm::kInstance, kLrelu),
                                     ResBlocks(o.n_res, 4 * d, Norm::kInstance), Aspp(4 * d)));
}

torch::Tensor StructureEncoderImpl::forward(const torch::Tensor& structure) {
  if (structure.dim() != 4 || structure.size(1) != input_dim_ || structure.size(2) % 4 != 0 ||
      structure.size(3) % 4 != 0) {
    throw std::runtime_error("StructureEncoder: input must be B x " + std::to_string(input_dim_) +
                             " x H x W with H, W multiples of 4, got " + c10::str(structure.sizes()));
  }
  return model->forward(structure);
}

DecoderImpl::DecoderImpl(const GeneratorOptions& o) {
  const int64_t c = 8 * static_cast<int64_t>(o.dim);
  res_ = ResBlocks(o.n_res, c, Norm::kAdaIn);
  up1_ = Block(c, c / 2, 5, 1, 2, Norm::kLayer, kLrelu);
  up2_ = Block(c / 2, c / 4, 5, 1, 2, Norm::kLayer, kLrelu);
  conv1_ = Block(c / 4, c / 4, 3, 1, 1, Norm::kNone, kLrelu);
  conv2_ = Block(c / 4, c / 4, 3, 1, 1, Norm::kNone, kLrelu);
  out_ = Block(c / 4, o.output_dim, 1, 1, 0, Norm::kNone, kLinear);
  model = register_module("model", torch::nn::ModuleList(res_, up1_, up2_, conv1_, conv2_, out_));
}

torch::Tensor DecoderImpl::forward(const torch::Tensor& s, const torch::Tensor& adain_weight,
                                   const torch::Tensor& adain_bias) {
  namespace F = torch::nn::functional;
  const auto up = F::InterpolateFuncOptions()
                      .scale_factor(std::vector<double>{2.0, 2.0})
                      .mode(torch::kNearest)
                      .recompute_scale_factor(false);
  torch::Tensor y = res_->forward_adain(s, adain_weight, adain_bias);
  y = up1_(F::interpolate(y, up));
  y = up2_(F::interpolate(y, up));
  return out_(conv2_(conv1_(y)));
}

MlpImpl::MlpImpl(int64_t in, int64_t hidden, int64_t out, int blocks) {
  model = register_module("model", torch::nn::Sequential());
  int64_t width = in;
  for (int i = 0; i < blocks; ++i) {
    const bool last = i + 1 == blocks;
    const int64_t next = last ? out : hidden;
    model->push_back(LinearBlock(width, next, last ? kLinear : kLrelu));
    width = next;
  }
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) { return model->forward(x); }

GeneratorImpl::GeneratorImpl(GeneratorOptions o) : options_(o) {
  ValidateGeneratorOptions(o);
  enc_content = register_module("enc_content", StructureEncoder(o));
  dec = register_module("dec", Decoder(o));
  const int64_t chunk = o.part_code_dim / o.n_res;
  const int64_t per_block = 2 * enc_content->output_dim();  // two AdaIN layers per residual block
  for (int k = 1; k <= o.n_res; ++k) {
    mlp_w.push_back(register_module("mlp_w" + std::to_string(k), Mlp(chunk, o.mlp_dim, per_block)));
  }
  for (int k = 1; k <= o.n_res; ++k) {
    mlp_b.push_back(register_module("mlp_b" + std::to_string(k), Mlp(chunk, o.mlp_dim, per_block)));
  }
  // weights_init('kaiming') of the reference (§2.3): every conv and linear, fan_in, a=0, bias 0.
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanIn);
      torch::nn::init::zeros_(conv->bias);
    } else if (auto* fc = m->as<torch::nn::Linear>()) {
      torch::nn::init::kaiming_normal_(fc->weight, 0.0, torch::kFanIn);
      torch::nn::init::zeros_(fc->bias);
    }
  }
}

torch::Tensor GeneratorImpl::encode(const torch::Tensor& structure) { return enc_content(structure); }

std::pair<torch::Tensor, torch::Tensor> GeneratorImpl::adain_params(const torch::Tensor& part_code) {
  if (part_code.dim() != 2 || part_code.size(1) != options_.part_code_dim) {
    throw std::runtime_error("Generator: part code must be B x " + std::to_string(options_.part_code_dim) +
                             ", got " + c10::str(part_code.sizes()));
  }
  // Chunk k holds backbone channels [k*C/n, (k+1)*C/n) across all stripes (channel-major code, §2.3).
  const std::vector<torch::Tensor> chunks = part_code.chunk(options_.n_res, 1);
  std::vector<torch::Tensor> w, b;
  for (int k = 0; k < options_.n_res; ++k) {
    w.push_back(mlp_w[k](chunks[k]));
    b.push_back(mlp_b[k](chunks[k]));
  }
  return {torch::cat(w, 1), torch::cat(b, 1)};
}

torch::Tensor GeneratorImpl::decode(const torch::Tensor& s, const torch::Tensor& part_code) {
  if (s.dim() != 4 || s.size(1) != enc_content->output_dim() || s.size(0) != part_code.size(0)) {
    throw std::runtime_error("Generator: structure code must be B x " + std::to_string(enc_content->output_dim()) +
                             " x h x w with the part code's batch " + std::to_string(part_code.size(0)) + ", got " +
                             c10::str(s.sizes()));
  }
  const auto [w, b] = adain_params(part_code);
  return dec(s, w, b);
}

}  // namespace gcl::models

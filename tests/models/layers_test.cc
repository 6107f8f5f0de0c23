// The reference's custom normalisations (AdaIN, LayerNorm) against naive double-precision loops, their gradients
// by central finite differences, the AdaIN parameter routing of the generator, and the init rules
// (reference §2.3-2.4).
#include "models/layers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <functional>
#include <vector>

#include "models/discriminator.h"
#include "models/generator.h"
#include "models/state_dict.h"

namespace gcl::models {
namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// Naive AdaIN: per (b, c) mean and biased variance by loops.
torch::Tensor NaiveAdaIn(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  auto xa = x.accessor<double, 4>();
  torch::Tensor y = torch::empty_like(x);
  auto ya = y.accessor<double, 4>();
  for (int64_t n = 0; n < B; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) mean += xa[n][c][i][j];
      mean /= H * W;
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) var += (xa[n][c][i][j] - mean) * (xa[n][c][i][j] - mean);
      var /= H * W;
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j)
          ya[n][c][i][j] = (xa[n][c][i][j] - mean) / std::sqrt(var + 1e-5) * w[n][c].item<double>() +
                           b[n][c].item<double>();
    }
  }
  return y;
}

// Naive reference LayerNorm: per sample mean and unbiased std over C*H*W, /(std + eps), per-channel affine.
torch::Tensor NaiveLayerNorm(const torch::Tensor& x, const torch::Tensor& gamma, const torch::Tensor& beta) {
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), N = C * H * W;
  auto xa = x.accessor<double, 4>();
  torch::Tensor y = torch::empty_like(x);
  auto ya = y.accessor<double, 4>();
  for (int64_t n = 0; n < B; ++n) {
    double mean = 0, ss = 0;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) mean += xa[n][c][i][j];
    mean /= N;
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j) ss += (xa[n][c][i][j] - mean) * (xa[n][c][i][j] - mean);
    const double sd = std::sqrt(ss / (N - 1));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H; ++i)
        for (int64_t j = 0; j < W; ++j)
          ya[n][c][i][j] = (xa[n][c][i][j] - mean) / (sd + 1e-5) * gamma[c].item<double>() + beta[c].item<double>();
  }
  return y;
}

// Compares autograd's gradient of sum(f(inputs) * r) with central differences for every input element.
void CheckGradients(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f,
                    std::vector<torch::Tensor> inputs) {
  for (auto& t : inputs) t = t.detach().clone().set_requires_grad(true);
  const torch::Tensor r = torch::randn_like(f(inputs));
  const torch::Tensor loss = (f(inputs) * r).sum();
  const std::vector<torch::Tensor> analytic = torch::autograd::grad({loss}, inputs);
  const double h = 1e-6;
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < inputs.size(); ++k) {
    torch::Tensor flat = inputs[k].view(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double old = flat[i].item<double>();
      flat[i] = old + h;
      const double up = (f(inputs) * r).sum().item<double>();
      flat[i] = old - h;
      const double down = (f(inputs) * r).sum().item<double>();
      flat[i] = old;
      const double numeric = (up - down) / (2 * h);
      EXPECT_NEAR(analytic[k].view(-1)[i].item<double>(), numeric, 1e-6 * std::max(1.0, std::abs(numeric)))
          << "input " << k << " element " << i;
    }
  }
}

TEST(AdaIn, MatchesNaiveLoopsAndInstanceBatchNorm) {
  const torch::Tensor x = torch::randn({2, 3, 4, 5}, kDouble) * 3 + 1;
  const torch::Tensor w = torch::randn({2, 3}, kDouble), b = torch::randn({2, 3}, kDouble);
  const torch::Tensor y = AdaptiveInstanceNorm(x, w, b);
  EXPECT_TRUE(torch::allclose(y, NaiveAdaIn(x, w, b), 1e-12, 1e-12));
  // The reference computes it as batch_norm over a (1, B*C, H, W) view in training mode.
  const torch::Tensor bn = torch::batch_norm(x.reshape({1, 6, 4, 5}), {}, {}, torch::zeros({6}, kDouble),
                                             torch::ones({6}, kDouble), /*training=*/true, 0.1, 1e-5, false)
                               .view({2, 3, 4, 5});
  EXPECT_TRUE(torch::allclose(y, bn * w.view({2, 3, 1, 1}) + b.view({2, 3, 1, 1}), 1e-12, 1e-12));
}

TEST(AdaIn, GradientsByFiniteDifferences) {
  CheckGradients([](const std::vector<torch::Tensor>& in) { return AdaptiveInstanceNorm(in[0], in[1], in[2]); },
                 {torch::randn({2, 2, 3, 3}, kDouble), torch::randn({2, 2}, kDouble), torch::randn({2, 2}, kDouble)});
}

TEST(AdaIn, RejectsWrongParameterShapes) {
  EXPECT_THROW(AdaptiveInstanceNorm(torch::randn({2, 3, 4, 4}), torch::randn({2, 4}), torch::randn({2, 4})),
               std::runtime_error);
}

TEST(LayerNorm, MatchesNaiveLoopsAndIsNotTorchLayerNorm) {
  const torch::Tensor x = torch::randn({3, 4, 3, 5}, kDouble) * 2 - 1;
  const torch::Tensor g = torch::rand({4}, kDouble), b = torch::randn({4}, kDouble);
  const torch::Tensor y = ReferenceLayerNorm(x, g, b);
  EXPECT_TRUE(torch::allclose(y, NaiveLayerNorm(x, g, b), 1e-12, 1e-12));
  // Batch of one takes the same path (the reference special-cases B == 1 with the same statistics).
  EXPECT_TRUE(torch::allclose(ReferenceLayerNorm(x.narrow(0, 1, 1), g, b), y.narrow(0, 1, 1), 1e-12, 1e-12));
  const torch::Tensor standard = torch::layer_norm(x, {4, 3, 5}, {}, {}, 1e-5) * g.view({1, 4, 1, 1}) +
                                 b.view({1, 4, 1, 1});
  EXPECT_FALSE(torch::allclose(y, standard, 1e-6, 1e-6));
}

TEST(LayerNorm, GradientsByFiniteDifferences) {
  CheckGradients([](const std::vector<torch::Tensor>& in) { return ReferenceLayerNorm(in[0], in[1], in[2]); },
                 {torch::randn({2, 3, 2, 3}, kDouble), torch::rand({3}, kDouble), torch::randn({3}, kDouble)});
}

TEST(LayerNorm, InitIsUniformGammaZeroBeta) {
  LayerNorm ln(4096);
  EXPECT_GE(ln->gamma.min().item<float>(), 0.0f);
  EXPECT_LT(ln->gamma.max().item<float>(), 1.0f);
  EXPECT_NEAR(ln->gamma.mean().item<float>(), 0.5f, 0.02f);
  EXPECT_EQ(ln->beta.abs().max().item<float>(), 0.0f);
}

TEST(Conv2dBlock, InstanceNormHasNoAffineAndReflectPads) {
  Conv2dBlockOptions o;
  o.in = 2;
  o.out = 3;
  o.kernel = 3;
  o.padding = 1;
  o.norm = Norm::kInstance;
  o.activation = Activation::kNone;
  Conv2dBlock block(o);
  EXPECT_EQ(block->parameters().size(), 2u);  // conv weight and bias only
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 2, 6, 5});
  const torch::Tensor y = block(x);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 6, 5}));
  const torch::Tensor conv = torch::conv2d(torch::reflection_pad2d(x, {1, 1, 1, 1}), block->conv->weight,
                                           block->conv->bias);
  const torch::Tensor mean = conv.mean({2, 3}, true), var = conv.var({2, 3}, false, true);
  EXPECT_TRUE(torch::allclose(y, (conv - mean) / torch::sqrt(var + 1e-5), 1e-4, 1e-5));
}

TEST(Generator, PartCodeChunkKDrivesOnlyResBlockK) {
  GeneratorOptions o;
  o.part_code_dim = 64;
  o.dim = 2;  // 16 channels in s, 32 AdaIN values per block
  o.mlp_dim = 8;
  Generator gen(o);
  torch::NoGradGuard no_grad;
  const torch::Tensor code = torch::randn({2, 64});
  torch::Tensor changed = code.clone();
  changed.narrow(1, 32, 16) += 1.0;  // chunk 2 (0-based) of 4
  const auto [w0, b0] = gen->adain_params(code);
  const auto [w1, b1] = gen->adain_params(changed);
  ASSERT_EQ(w0.sizes(), torch::IntArrayRef({2, 4 * 32}));
  for (int k = 0; k < 4; ++k) {
    const bool differs = !torch::equal(w0.narrow(1, 32 * k, 32), w1.narrow(1, 32 * k, 32)) &&
                         !torch::equal(b0.narrow(1, 32 * k, 32), b1.narrow(1, 32 * k, 32));
    EXPECT_EQ(differs, k == 2) << "block " << k;
  }
}

TEST(Generator, StructureCodeIsInstanceNormalised) {
  GeneratorOptions o;
  o.part_code_dim = 64;
  o.dim = 4;
  o.mlp_dim = 8;
  Generator gen(o);
  torch::NoGradGuard no_grad;
  const torch::Tensor s = gen->encode(torch::randn({2, 1, 128, 64}));
  EXPECT_EQ(s.sizes(), torch::IntArrayRef({2, 32, 32, 16}));
  // E_str ends with an InstanceNorm without affine or activation (ASPP fuse, §2.2).
  EXPECT_LT(s.mean({2, 3}).abs().max().item<float>(), 1e-4f);
  EXPECT_NEAR(s.var({2, 3}, false).mean().item<float>(), 1.0f, 1e-2f);
}

TEST(Generator, SafetensorsRoundTripGivesIdenticalImages) {
  GeneratorOptions o;
  o.part_code_dim = 64;
  o.dim = 2;
  o.mlp_dim = 8;
  Generator a(o), b(o);
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/gen.safetensors";
  WriteSafetensors(path, ModuleStateDict(*a));
  LoadOptions strict;
  strict.strip_prefixes.clear();
  const LoadReport r = LoadStateDict(*b, ReadCheckpoint(path).tensors, strict, path);
  EXPECT_TRUE(r.unexpected.empty());
  EXPECT_TRUE(r.missing.empty());
  torch::NoGradGuard no_grad;
  const torch::Tensor structure = torch::randn({1, 1, 128, 64});
  const torch::Tensor s = a->encode(structure);
  EXPECT_TRUE(torch::equal(b->encode(structure), s));
  const torch::Tensor code = torch::randn({1, 64});
  EXPECT_TRUE(torch::equal(a->decode(s, code), b->decode(s, code)));
}

TEST(Init, KaimingForGeneratorNormalForDiscriminator) {
  Generator gen{GeneratorOptions{}};
  const auto params = gen->named_parameters();
  const torch::Tensor w = params["dec.model.0.model.0.model.0.conv.weight"];  // 128 x 128 x 3 x 3
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / (128 * 9)), 0.02 * std::sqrt(2.0 / (128 * 9)));
  EXPECT_EQ(params["dec.model.0.model.0.model.0.conv.bias"].abs().max().item<float>(), 0.0f);
  const torch::Tensor fc = params["mlp_w1.model.0.fc.weight"];  // 512 x 2048
  EXPECT_NEAR(fc.std().item<double>(), std::sqrt(2.0 / 2048), 0.02 * std::sqrt(2.0 / 2048));
  MultiScaleDiscriminator d{DiscriminatorOptions{}};
  const torch::Tensor dw = d->named_parameters()["cnns.0.5.model.0.model.0.conv.weight"];  // 64 x 64 x 3 x 3
  EXPECT_NEAR(dw.std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(dw.mean().item<double>(), 0.0, 0.001);
}

TEST(Discriminator, ScalesSeeCountExcludingAvgPool) {
  DiscriminatorOptions o;
  o.dim = 4;
  o.n_res = 1;
  o.num_scales = 2;
  MultiScaleDiscriminator d(o);
  torch::NoGradGuard no_grad;
  // A constant image stays constant under AvgPool(3, 2, 1, count_include_pad=false): border windows are not
  // darkened by the padding, so both scales see the same constant and give the same patch value.
  const torch::Tensor x = torch::full({1, 3, 32, 16}, 0.7);
  const std::vector<torch::Tensor> maps = d->forward(x);
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[1].sizes(), torch::IntArrayRef({1, 1, 4, 2}));
  EXPECT_FALSE(torch::equal(maps[0].flatten()[0], maps[1].flatten()[0]));  // different weights per scale
  MultiScaleDiscriminator same(o);
  // copy scale 0's weights into scale 1 so only the input differs
  {
    auto p = same->named_parameters();
    for (auto& item : p) {
      if (item.key().rfind("cnns.1.", 0) == 0) {
        item.value().copy_(p["cnns.0." + item.key().substr(7)]);
      }
    }
  }
  const std::vector<torch::Tensor> tied = same->forward(x);
  EXPECT_TRUE(torch::allclose(tied[0].mean(), tied[1].mean(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(tied[0][0][0][3][1], tied[1][0][0][1][1], 1e-5, 1e-6));
}

}  // namespace
}  // namespace gcl::models

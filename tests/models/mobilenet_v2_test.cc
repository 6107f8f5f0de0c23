// models/mobilenet_v2.h: torchvision's channel rounding and parameter count, output strides, the layer table
// against the built modules, and TfSameConv2d against a naive TensorFlow-SAME convolution (values and
// finite-difference gradients in double).
#include "models/mobilenet_v2.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

namespace gcl::models {
namespace {

int64_t CountParameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

TEST(MakeDivisible, MatchesTorchvision) {
  EXPECT_EQ(MakeDivisible(32 * 1.75), 56);  // MoveNet-Thunder's stem
  EXPECT_EQ(MakeDivisible(16 * 1.75), 32);  // 28 rounds up
  EXPECT_EQ(MakeDivisible(24 * 1.75), 40);  // 42 rounds down
  EXPECT_EQ(MakeDivisible(16 * 0.35), 8);   // never below the divisor
  EXPECT_EQ(MakeDivisible(96 * 0.75), 72);
  EXPECT_EQ(MakeDivisible(320 * 1.4), 448);
  EXPECT_EQ(MakeDivisible(10), 16);  // 8 would be more than 10 % below
}

TEST(MobileNetV2, ParameterCountOfTorchvisionsFeatures) {
  // torchvision's mobilenet_v2() has 3,504,872 parameters, 1,281,000 of them in the classifier.
  EXPECT_EQ(CountParameters(*MakeMobileNetV2Features({1.0, false})), 2223872);
}

TEST(MobileNetV2, OutputStridesRoundUpAsTensorFlowDoes) {
  torch::NoGradGuard no_grad;
  for (const bool last_stride_one : {false, true}) {
    torch::nn::Sequential f = MakeMobileNetV2Features({0.5, last_stride_one});
    f->eval();
    const torch::Tensor a = f->forward(torch::randn({1, 3, 256, 128}));
    EXPECT_EQ(a.sizes(), last_stride_one ? torch::IntArrayRef({1, 1280, 16, 8}) : torch::IntArrayRef({1, 1280, 8, 4}));
    // The tiny preset's 80 x 40: 40, 20, 10, 5, 3 (or 5) rows.
    const torch::Tensor b = f->forward(torch::randn({1, 3, 80, 40}));
    EXPECT_EQ(b.sizes(), last_stride_one ? torch::IntArrayRef({1, 1280, 5, 3}) : torch::IntArrayRef({1, 1280, 3, 2}));
  }
}

TEST(MobileNetV2, LayerTableNamesTheBuiltModules) {
  torch::nn::Sequential f = MakeMobileNetV2Features({1.75, true});
  std::map<std::string, torch::nn::Module*> modules;
  for (const auto& m : f->named_modules("features")) modules[m.key()] = m.value().get();
  const std::vector<MobileNetV2Conv> convs = MobileNetV2Convs();
  ASSERT_EQ(convs.size(), 52u);  // stem, 2 + 16 x 3 in the blocks, last 1x1
  int strided = 0;
  for (const MobileNetV2Conv& c : convs) {
    ASSERT_TRUE(modules.count(c.conv)) << c.conv;
    ASSERT_TRUE(modules.count(c.batch_norm)) << c.batch_norm;
    const auto* conv = modules[c.conv]->as<TfSameConv2d>();
    ASSERT_NE(conv, nullptr) << c.conv;
    EXPECT_NE(modules[c.batch_norm]->as<torch::nn::BatchNorm2d>(), nullptr) << c.batch_norm;
    EXPECT_EQ(conv->groups() > 1, c.depthwise) << c.tf_name;
    if (c.depthwise) {
      EXPECT_EQ(conv->groups(), conv->weight.size(0)) << c.tf_name;
    }
    // last_stride_one: block 13 (features.14) runs at stride 1 though MoveNet's has 2.
    EXPECT_EQ(conv->stride(), c.tf_name == "block_13_depthwise" ? 1 : c.tf_stride) << c.tf_name;
    strided += c.tf_stride == 2;
  }
  EXPECT_EQ(strided, 5);  // output stride 32
  EXPECT_EQ(convs.front().tf_name, "Conv1");
  EXPECT_EQ(convs[1].tf_name, "expanded_conv_depthwise");
  EXPECT_EQ(convs[1].conv, "features.1.conv.0.0");
  EXPECT_EQ(convs[5].tf_name, "block_1_project");
  EXPECT_EQ(convs[5].conv, "features.2.conv.2");
  EXPECT_EQ(convs[5].batch_norm, "features.2.conv.3");
  EXPECT_EQ(convs.back().conv, "features.18.0");
}

// Naive NCHW convolution with TensorFlow's SAME padding (the odd pad pixel after), in double.
torch::Tensor NaiveSameConv(const torch::Tensor& x, const torch::Tensor& w, int64_t stride, int64_t groups) {
  const int64_t h = x.size(2), wd = x.size(3), k = w.size(2);
  const int64_t oh = (h + stride - 1) / stride, ow = (wd + stride - 1) / stride;
  const int64_t top = std::max<int64_t>((oh - 1) * stride + k - h, 0) / 2;
  const int64_t left = std::max<int64_t>((ow - 1) * stride + k - wd, 0) / 2;
  const int64_t out_c = w.size(0), per_group_in = w.size(1), per_group_out = out_c / groups;
  torch::Tensor out = torch::zeros({x.size(0), out_c, oh, ow}, torch::kDouble);
  for (int64_t n = 0; n < x.size(0); ++n)
    for (int64_t o = 0; o < out_c; ++o)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          torch::Tensor sum = torch::zeros({}, torch::kDouble);
          for (int64_t a = 0; a < k; ++a)
            for (int64_t b = 0; b < k; ++b) {
              const int64_t y = i * stride + a - top, xx = j * stride + b - left;
              if (y < 0 || y >= h || xx < 0 || xx >= wd) continue;
              for (int64_t c = 0; c < per_group_in; ++c) {
                sum = sum + x[n][(o / per_group_out) * per_group_in + c][y][xx] * w[o][c][a][b];
              }
            }
          out[n][o][i][j] = sum;
        }
  return out;
}

TEST(TfSameConv2d, MatchesNaiveSamePaddingInValueAndGradient) {
  torch::manual_seed(3);
  for (const auto& [stride, groups] : std::vector<std::pair<int64_t, int64_t>>{{2, 1}, {1, 1}, {2, 4}}) {
    TfSameConv2d conv(4, 4, 3, stride, groups);
    conv->to(torch::kDouble);
    const torch::Tensor x = torch::randn({1, 4, 6, 5}, torch::kDouble).requires_grad_(true);
    const torch::Tensor y = conv->forward(x);
    const torch::Tensor want = NaiveSameConv(x.detach(), conv->weight.detach(), stride, groups);
    ASSERT_EQ(y.sizes(), want.sizes());
    EXPECT_LT((y - want).abs().max().item<double>(), 1e-12) << "stride " << stride << " groups " << groups;
    // d(sum(y * r)) / d(weight) against central differences.
    const torch::Tensor r = torch::randn_like(y);
    (y * r).sum().backward();
    const torch::Tensor grad = conv->weight.grad().clone();
    torch::NoGradGuard no_grad;
    const double h = 1e-6;
    for (int64_t idx = 0; idx < conv->weight.numel(); idx += 5) {
      auto flat = conv->weight.view({-1});
      const double saved = flat[idx].item<double>();
      flat[idx] = saved + h;
      const double plus = (conv->forward(x) * r).sum().item<double>();
      flat[idx] = saved - h;
      const double minus = (conv->forward(x) * r).sum().item<double>();
      flat[idx] = saved;
      EXPECT_NEAR(grad.view({-1})[idx].item<double>(), (plus - minus) / (2 * h), 1e-6) << idx;
    }
  }
}

TEST(MobileNetV2, RefusesBadWidthsAndGroups) {
  EXPECT_THROW(MakeMobileNetV2Features({0.0, false}), std::runtime_error);
  EXPECT_THROW(TfSameConv2d(6, 4, 3, 1, 4), std::runtime_error);
}

}  // namespace
}  // namespace gcl::models

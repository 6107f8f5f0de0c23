// Shapes and exact parameter counts of E_id, E_str, decoder + MLPs and D against
// reference §2 (counts at 256x128, construction only).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "models/discriminator.h"
#include "models/generator.h"
#include "models/identity_encoder.h"

namespace gcl::models {
namespace {

int64_t CountParameters(const torch::nn::Module& m, const std::string& prefix = "") {
  int64_t n = 0;
  for (const auto& p : m.named_parameters()) {
    if (p.key().rfind(prefix, 0) == 0) n += p.value().numel();
  }
  return n;
}

TEST(ParameterCounts, IdentityEncoderResNet50) {
  IdentityEncoder net{IdentityEncoderOptions{}};
  EXPECT_EQ(CountParameters(*net), 24558144);
  EXPECT_EQ(CountParameters(*net, "feat.") + CountParameters(*net, "feat_bn."), 1049088 + 1024);
  EXPECT_EQ(net->part_code_dim(), 8192);
}

TEST(ParameterCounts, OtherDepthsMatchTorchvisionBackbones) {
  // torchvision resnet18/34/101 totals 11,689,512 / 21,797,672 / 44,549,160 minus their fc (513,000 / 513,000 /
  // 2,049,000); the last stride does not change parameter counts.
  const std::vector<std::pair<int, int64_t>> expected = {{18, 11176512}, {34, 21284672}, {101, 42500160}};
  for (const auto& [depth, backbone] : expected) {
    IdentityEncoderOptions o;
    o.depth = depth;
    IdentityEncoder net{o};
    const int64_t heads = CountParameters(*net, "feat.") + CountParameters(*net, "feat_bn.");
    EXPECT_EQ(CountParameters(*net) - heads, backbone) << "depth " << depth;
    EXPECT_EQ(net->last_channels(), depth >= 50 ? 2048 : 512);
  }
}

TEST(ParameterCounts, Generator) {
  Generator gen{GeneratorOptions{}};
  EXPECT_EQ(CountParameters(*gen, "enc_content."), 380544);
  EXPECT_EQ(CountParameters(*gen, "enc_content.model.5."), 52576);  // ASPP
  EXPECT_EQ(CountParameters(*gen, "dec."), 1455555);
  for (int k = 1; k <= 4; ++k) {
    EXPECT_EQ(CountParameters(*gen, "mlp_w" + std::to_string(k) + "."), 1443072);
    EXPECT_EQ(CountParameters(*gen, "mlp_b" + std::to_string(k) + "."), 1443072);
  }
  EXPECT_EQ(CountParameters(*gen), 13380675);
}

TEST(ParameterCounts, Discriminator) {
  MultiScaleDiscriminator d{DiscriminatorOptions{}};
  EXPECT_EQ(CountParameters(*d, "cnns.0."), 341857);
  EXPECT_EQ(CountParameters(*d), 1025571);
}

struct Size {
  int64_t h, w;
};

class Shapes : public ::testing::TestWithParam<Size> {};

TEST_P(Shapes, IdentityEncoderLastStrideOne) {
  const Size s = GetParam();
  IdentityEncoderOptions o;
  o.width = 0.25;  // same shape logic as width 1, 1/16 of the compute
  IdentityEncoder net{o};
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 3, s.h, s.w});
  EXPECT_EQ(net->backbone(x).sizes(), torch::IntArrayRef({2, 512, s.h / 16, s.w / 16}));
  const IdentityOutput out = net->forward_parts(x);
  EXPECT_EQ(out.part_code.sizes(), torch::IntArrayRef({2, 2048}));
  EXPECT_EQ(out.embedding.sizes(), torch::IntArrayRef({2, 512}));
  const torch::Tensor f = net->forward(x);
  EXPECT_TRUE(torch::allclose(f.norm(2, 1), torch::ones({2}), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(net->part_code(x), out.part_code));
}

TEST_P(Shapes, PartCodeIsChannelMajor) {
  const Size s = GetParam();
  IdentityEncoderOptions o;
  o.depth = 18;
  o.width = 0.125;
  IdentityEncoder net{o};
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 3, s.h, s.w});
  const torch::Tensor map = net->backbone(x);  // 1 x C x h x w, h divisible by 4 stripes here
  const torch::Tensor code = net->part_code(x);
  const int64_t c = 7, stripe = 2, rows = map.size(2) / 4;
  const double naive = map[0][c].narrow(0, stripe * rows, rows).mean().item<double>();
  EXPECT_NEAR(code[0][c * 4 + stripe].item<double>(), naive, 1e-5);
}

TEST_P(Shapes, GeneratorAndDiscriminator) {
  const Size s = GetParam();
  Generator gen{GeneratorOptions{}};
  MultiScaleDiscriminator d{DiscriminatorOptions{}};
  torch::NoGradGuard no_grad;
  const torch::Tensor structure = torch::randn({1, 1, s.h, s.w});
  const torch::Tensor code = torch::randn({1, 8192});
  const torch::Tensor z = gen->encode(structure);
  EXPECT_EQ(z.sizes(), torch::IntArrayRef({1, 128, s.h / 4, s.w / 4}));
  const torch::Tensor image = gen->decode(z, code);
  EXPECT_EQ(image.sizes(), torch::IntArrayRef({1, 3, s.h, s.w}));
  EXPECT_TRUE(torch::isfinite(image).all().item<bool>());
  const std::vector<torch::Tensor> maps = d->forward(image);
  ASSERT_EQ(maps.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    const int64_t f = 4 << k;
    EXPECT_EQ(maps[k].sizes(), torch::IntArrayRef({1, 1, s.h / f, s.w / f})) << "scale " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Shapes, ::testing::Values(Size{256, 128}, Size{128, 64}));

TEST(Options, BadValuesNameTheField) {
  IdentityEncoderOptions o;
  o.depth = 42;
  EXPECT_THROW(
      {
        try {
          IdentityEncoder{o};
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("depth"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
  GeneratorOptions g;
  g.part_code_dim = 8190;
  EXPECT_THROW(Generator{g}, std::runtime_error);
}

TEST(Options, WrongInputShapesThrow) {
  GeneratorOptions g;
  g.part_code_dim = 64;
  g.dim = 2;
  g.mlp_dim = 8;
  Generator gen{g};
  torch::NoGradGuard no_grad;
  EXPECT_THROW(gen->encode(torch::randn({1, 3, 32, 16})), std::runtime_error);
  const torch::Tensor z = gen->encode(torch::randn({1, 1, 128, 64}));
  EXPECT_THROW(gen->decode(z, torch::randn({1, 60})), std::runtime_error);
  EXPECT_EQ(gen->decode(z, torch::randn({1, 64})).sizes(), torch::IntArrayRef({1, 3, 128, 64}));
}

}  // namespace
}  // namespace gcl::models

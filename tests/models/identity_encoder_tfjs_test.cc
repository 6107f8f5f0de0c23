// models/identity_encoder_tfjs.h: E_id's MobileNetV2 backbone loaded from MoveNet reproduces the feature map TF.js
// computes for the same picture (tests/testdata/tfjs), has the file's parameter count, trains (gradients reach
// every layer, frozen batch norm keeps its statistics), and refuses mismatched encoders and graphs.
#include "models/identity_encoder_tfjs.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "models/mobilenet_v2.h"
#include "models/state_dict.h"
#include "models/tfjs/bundled_models.h"
#include "models/tfjs/graph_model.h"

namespace gcl::models {
namespace {

const char kMoveNetBackbone[] =
    "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/out_relu/Relu6";
// The tolerance of //tests/models/tfjs:graph_executor_test (same float16 weights on both sides; float32 summation
// order is what differs).
constexpr double kTolerance = 1e-4;
// data/pipeline's kImageNetNorm, what E_id is fed.
const InputNormalization kImageNet = {{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};

IdentityEncoderOptions MobileNet(double width, bool last_stride_one) {
  IdentityEncoderOptions o;
  o.backbone = Backbone::kMobileNetV2;
  o.mobilenet_width = width;
  o.last_stride_one = last_stride_one;
  o.embedding_dim = 32;
  return o;
}

const tfjs::GraphModel& Model(const std::string& name) {
  static auto* cache = new std::map<std::string, tfjs::GraphModel>();
  auto it = cache->find(name);
  if (it == cache->end()) it = cache->emplace(name, tfjs::ReadGraphModel(tfjs::BundledModelJson(name))).first;
  return it->second;
}

// The recorded picture as E_id sees it: RGB / 255, ImageNet mean/std, NCHW; and TF.js's backbone map as NCHW.
std::pair<torch::Tensor, torch::Tensor> PictureAndFeatures(const std::string& model) {
  const Checkpoint c = ReadCheckpoint("tests/testdata/tfjs/" + model + ".safetensors");
  std::map<std::string, torch::Tensor> t(c.tensors.begin(), c.tensors.end());
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}), std = torch::tensor({0.229f, 0.224f, 0.225f});
  const torch::Tensor x = ((t.at("image").to(torch::kFloat) / 255.0f - mean) / std).permute({2, 0, 1}).unsqueeze(0);
  return {x.contiguous(), t.at(kMoveNetBackbone).permute({0, 3, 1, 2})};
}

double ScaledError(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

TEST(MoveNetImport, ThunderBackboneReproducesTfjs) {
  IdentityEncoder net(MobileNet(1.75, /*last_stride_one=*/false));
  const TfjsImportReport r = ImportMoveNetBackbone(net, Model("movenet-thunder"), kImageNet);
  EXPECT_EQ(r.convolutions, 52);
  EXPECT_EQ(r.file_width, 1.75);
  EXPECT_EQ(r.prefix, "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/");
  net->eval();
  torch::NoGradGuard no_grad;
  const auto [x, want] = PictureAndFeatures("movenet-thunder");
  const torch::Tensor got = net->backbone(x);
  ASSERT_EQ(got.sizes(), want.sizes());  // 1 x 1280 x 8 x 8
  const double error = ScaledError(got, want);
  EXPECT_LT(error, kTolerance);
  std::cout << "thunder backbone in E_id: max error / max |ref| = " << error << "\n";
}

TEST(MoveNetImport, LightningBackboneReproducesTfjs) {
  IdentityEncoder net(MobileNet(1.0, false));
  ImportMoveNetBackbone(net, Model("movenet-lightning"), kImageNet);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto [x, want] = PictureAndFeatures("movenet-lightning");
  EXPECT_LT(ScaledError(net->backbone(x), want), kTolerance);
}

TEST(MoveNetImport, InputMapAndFoldedBatchNorm) {
  IdentityEncoder net(MobileNet(1.75, true));
  ImportMoveNetBackbone(net, Model("movenet-thunder"), kImageNet);
  std::map<std::string, torch::Tensor> state;
  for (const auto& [k, v] : ModuleStateDict(*net)) state[k] = v;
  // MoveNet: picture * 0.007843017578125 (1/127.5 in float16) - 1; E_id's picture = 255 * (x * std + mean).
  const double k = 0.007843017578125;
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(state.at("input_scale")[c].item<double>(), 255 * k * kImageNet.std[c], 1e-6);
    EXPECT_NEAR(state.at("input_shift")[c].item<double>(), 255 * k * kImageNet.mean[c] - 1, 1e-6);
  }
  const auto& w = Model("movenet-thunder").weights;
  const std::string p = "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/";
  EXPECT_TRUE(torch::equal(state.at("features.0.0.weight"), w.at(p + "Conv1/Conv2D_weights").permute({3, 2, 0, 1})));
  EXPECT_TRUE(torch::equal(state.at("features.4.conv.1.0.weight"),
                           w.at(p + "block_3_depthwise/depthwise_weights").permute({2, 3, 0, 1})));
  EXPECT_TRUE(torch::equal(state.at("features.4.conv.1.1.bias"), w.at(p + "block_3_depthwise/depthwise_bn_offset")));
  EXPECT_TRUE(torch::equal(state.at("features.4.conv.1.1.weight"), torch::ones({240})));
  EXPECT_TRUE(torch::equal(state.at("features.4.conv.1.1.running_mean"), torch::zeros({240})));
  // running_var + eps == 1: the BatchNorm divides by exactly sqrt(1).
  EXPECT_EQ((state.at("features.18.1.running_var") + 1e-5f).sub(1).abs().max().item<float>(), 0.0f);
  // The heads keep their init.
  EXPECT_TRUE(torch::equal(state.at("feat.bias"), torch::zeros({32})));
}

TEST(MoveNetImport, LastStrideOneGivesSixteenRowsAt256) {
  IdentityEncoder net(MobileNet(1.75, true));
  ImportMoveNetBackbone(net, Model("movenet-thunder"), kImageNet);
  net->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->backbone(torch::randn({1, 3, 256, 128})).sizes(), torch::IntArrayRef({1, 1280, 16, 8}));
  EXPECT_EQ(net->part_code_dim(), 1280 * 4);
}

int64_t CountParameters(const torch::nn::Module& m, const std::string& prefix = "") {
  int64_t n = 0;
  for (const auto& p : m.named_parameters()) {
    if (p.key().rfind(prefix, 0) == 0) n += p.value().numel();
  }
  return n;
}

TEST(MoveNetImport, ParameterCountIsTheFilesPlusBatchNormScales) {
  // The file holds each convolution's kernel and folded bias; E_id adds a BatchNorm weight per bias channel.
  const tfjs::GraphModel& m = Model("movenet-thunder");
  const std::string p = "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/";
  int64_t file = 0, channels = 0;
  for (const MobileNetV2Conv& c : MobileNetV2Convs()) {
    const std::string kind = c.depthwise ? "/depthwise" : "/Conv2D";
    file += m.weights.at(p + c.tf_name + kind + "_weights").numel();
    const int64_t bias = m.weights.at(p + c.tf_name + kind + "_bn_offset").numel();
    file += bias;
    channels += bias;
  }
  IdentityEncoder net(MobileNet(1.75, true));
  EXPECT_EQ(CountParameters(*net, "features."), file + channels);
  EXPECT_EQ(CountParameters(*net, "features."), 6139552);
  EXPECT_EQ(CountParameters(*net), 6139552 + (1280 * 32 + 32) + 2 * 32);
}

TEST(MoveNetImport, OneTrainingStepReachesEveryLayerAndKeepsFrozenStatistics) {
  IdentityEncoderOptions o = MobileNet(1.75, true);
  o.frozen_batch_norm = true;
  IdentityEncoder net(o);
  ImportMoveNetBackbone(net, Model("movenet-thunder"), kImageNet);
  net->train();
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({4, 3, 64, 32});
  // Frozen batch norm: train mode computes what eval mode does (the imported network, unchanged by batch stats).
  torch::Tensor map_train;
  {
    torch::NoGradGuard no_grad;
    map_train = net->backbone(x);
    net->eval();
    EXPECT_TRUE(torch::allclose(map_train, net->backbone(x)));
    net->train();
  }
  std::map<std::string, torch::Tensor> before;
  for (const auto& [k, v] : ModuleStateDict(*net)) before[k] = v.clone();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.01));
  const IdentityOutput out = net->forward_parts(x);
  const torch::Tensor loss = out.part_code.pow(2).mean() + out.embedding.pow(2).mean();
  sgd.zero_grad();
  loss.backward();
  for (const std::string name : {"features.0.0.weight", "features.0.1.weight", "features.14.conv.1.0.weight",
                                 "features.18.0.weight", "features.18.1.bias", "feat.weight"}) {
    const torch::Tensor g = net->named_parameters()[name].grad();
    ASSERT_TRUE(g.defined()) << name;
    EXPECT_TRUE(torch::isfinite(g).all().item<bool>()) << name;
    EXPECT_GT(g.abs().sum().item<double>(), 0.0) << name;
  }
  sgd.step();
  int changed = 0;
  for (const auto& [k, v] : ModuleStateDict(*net)) {
    if (k.find("running_") != std::string::npos && k.rfind("features.", 0) == 0) {
      EXPECT_TRUE(torch::equal(v, before.at(k))) << k << " moved though batch norm is frozen";
    } else if (!torch::equal(v, before.at(k))) {
      ++changed;
    }
  }
  EXPECT_GT(changed, 100);
  // Without frozen batch norm the same step updates the running statistics.
  IdentityEncoder free(MobileNet(1.75, true));
  ImportMoveNetBackbone(free, Model("movenet-thunder"), kImageNet);
  free->train();
  const torch::Tensor var_before = free->named_buffers()["features.0.1.running_var"].clone();
  free->forward_parts(x);
  EXPECT_FALSE(torch::equal(free->named_buffers()["features.0.1.running_var"], var_before));
}

TEST(MoveNetImport, RefusesMismatchesWithoutTouchingTheEncoder) {
  auto error = [](IdentityEncoder& net, const std::string& model) -> std::string {
    try {
      ImportMoveNetBackbone(net, Model(model), kImageNet);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  IdentityEncoderOptions resnet;
  resnet.width = 0.125;
  IdentityEncoder r(resnet);
  std::string e = error(r, "movenet-thunder");
  EXPECT_NE(e.find("movenet-thunder.json: E_id's backbone is resnet"), std::string::npos) << e;

  IdentityEncoder narrow(MobileNet(1.0, true));
  const torch::Tensor stem = narrow->named_parameters()["features.0.0.weight"].clone();
  e = error(narrow, "movenet-thunder");
  EXPECT_NE(e.find("the file's MobileNetV2 has width 1.75"), std::string::npos) << e;
  EXPECT_NE(e.find("model.mobilenet_width"), std::string::npos) << e;
  EXPECT_TRUE(torch::equal(narrow->named_parameters()["features.0.0.weight"], stem));

  e = error(narrow, "blazepose-full");
  EXPECT_NE(e.find("blazepose-full.json: 0 weights named '.../Conv1/Conv2D_weights'"), std::string::npos) << e;
  EXPECT_EQ(MoveNetBackboneWidth(Model("movenet-lightning")), 1.0);
}

}  // namespace
}  // namespace gcl::models

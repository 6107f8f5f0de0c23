// E_id weight import from checkpoints written by Python (torchvision blocks, JVTC-style layout) must reproduce
// PyTorch's outputs; export and re-load must reproduce ours exactly.
#include "models/identity_encoder_io.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

namespace gcl::models {
namespace {

const std::string kData = "tests/testdata/models/";

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

class Expected : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { expected_ = new Checkpoint(ReadCheckpoint(kData + "expected_outputs.safetensors")); }
  static torch::Tensor Get(const std::string& name) {
    for (const auto& [k, v] : expected_->tensors) {
      if (k == name) return v;
    }
    throw std::runtime_error("expected_outputs.safetensors has no " + name);
  }
  static Checkpoint* expected_;
};
Checkpoint* Expected::expected_ = nullptr;

IdentityEncoderOptions R50() {
  IdentityEncoderOptions o;
  o.depth = 50;
  o.width = 1.0 / 32;
  o.embedding_dim = 16;
  return o;
}

IdentityEncoderOptions R18() {
  IdentityEncoderOptions o;
  o.depth = 18;
  o.width = 1.0 / 16;
  return o;
}

class JvtcFiles : public Expected, public ::testing::WithParamInterface<const char*> {};

TEST_P(JvtcFiles, Stage1CheckpointReproducesPyTorch) {
  IdentityEncoder net(R50());
  const LoadReport r = ImportIdentityEncoderWeights(net, kData + GetParam(), IdentityWeights::kAuto);
  EXPECT_EQ(r.unexpected, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  // The fixture mimics old checkpoints without num_batches_tracked; nothing else may be missing.
  for (const std::string& key : r.missing) EXPECT_NE(key.find("num_batches_tracked"), std::string::npos) << key;
  EXPECT_FALSE(r.missing.empty());
  net->eval();
  torch::NoGradGuard no_grad;
  const IdentityOutput out = net->forward_parts(Get("r50.input"));
  EXPECT_TRUE(torch::allclose(out.part_code, Get("r50.part_code"), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(out.embedding, Get("r50.embedding"), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(net->forward(Get("r50.input")), Get("r50.feature"), 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(ZipAndLegacy, JvtcFiles, ::testing::Values("jvtc_r50_w32.pth", "jvtc_r50_w32_legacy.pth"));

TEST_F(Expected, ImageNetBackboneFromPthAndSafetensors) {
  for (const std::string file : {"imagenet_r18_w16.pth", "imagenet_r18_w16.safetensors"}) {
    IdentityEncoder net(R18());
    const torch::Tensor feat_before = net->named_parameters()["feat.weight"].clone();
    const LoadReport r = ImportIdentityEncoderWeights(net, kData + file, IdentityWeights::kAuto);
    EXPECT_EQ(r.unexpected, (std::vector<std::string>{"fc.weight", "fc.bias"})) << file;
    EXPECT_EQ(r.missing, (std::vector<std::string>{"feat.weight", "feat.bias", "feat_bn.weight", "feat_bn.bias",
                                                   "feat_bn.running_mean", "feat_bn.running_var",
                                                   "feat_bn.num_batches_tracked"}))
        << file;
    EXPECT_TRUE(torch::equal(net->named_parameters()["feat.weight"], feat_before));
    net->eval();
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::allclose(net->part_code(Get("r18.input")), Get("r18.part_code"), 1e-4, 1e-5)) << file;
  }
}

TEST_F(Expected, FullModeRequiresTheHeads) {
  IdentityEncoder net(R18());
  try {
    ImportIdentityEncoderWeights(net, kData + "imagenet_r18_w16.pth", IdentityWeights::kFull);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("imagenet_r18_w16.pth"), std::string::npos) << what;
    EXPECT_NE(what.find("missing key 'feat.weight'"), std::string::npos) << what;
  }
}

TEST_F(Expected, WrongArchitectureNamesKeyAndShapes) {
  IdentityEncoderOptions o = R50();
  o.width = 1.0 / 16;  // twice the fixture's width
  IdentityEncoder net(o);
  try {
    ImportIdentityEncoderWeights(net, kData + "jvtc_r50_w32.pth", IdentityWeights::kFull);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'conv1.weight'"), std::string::npos) << what;
    EXPECT_NE(what.find("[2, 3, 7, 7]"), std::string::npos) << what;
    EXPECT_NE(what.find("[4, 3, 7, 7]"), std::string::npos) << what;
  }
}

TEST(Export, RoundTripGivesIdenticalOutputs) {
  IdentityEncoderOptions o = R18();
  o.embedding_dim = 24;
  o.num_parts = 2;
  IdentityEncoder net(o);
  // Train-mode passes move the BN running statistics away from their init, so buffers must travel too.
  net->train();
  for (int i = 0; i < 2; ++i) net->forward(torch::randn({4, 3, 64, 32}));
  net->eval();
  const std::string path = TempPath("eid.safetensors");
  ExportIdentityEncoder(net, path);
  IdentityEncoder back = LoadExportedIdentityEncoder(path);
  EXPECT_EQ(back->options().depth, 18);
  EXPECT_EQ(back->options().width, 1.0 / 16);
  EXPECT_EQ(back->options().embedding_dim, 24);
  EXPECT_EQ(back->options().num_parts, 2);
  EXPECT_FALSE(back->is_training());
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 3, 64, 32});
  const IdentityOutput a = net->forward_parts(x), b = back->forward_parts(x);
  EXPECT_TRUE(torch::equal(a.part_code, b.part_code));
  EXPECT_TRUE(torch::equal(a.embedding, b.embedding));
  EXPECT_EQ(a.part_code.size(1), back->part_code_dim());
}

TEST(Export, MobileNetV2RoundTripKeepsBackboneAndInputMap) {
  IdentityEncoderOptions o;
  o.backbone = Backbone::kMobileNetV2;
  o.mobilenet_width = 0.5;
  o.last_stride_one = false;
  o.embedding_dim = 8;
  IdentityEncoder net(o);
  net->train();
  net->forward(torch::randn({4, 3, 64, 32}));
  net->eval();
  {
    torch::NoGradGuard no_grad;
    for (auto& b : net->named_buffers()) {
      if (b.key() == "input_scale") b.value().fill_(2.0);
      if (b.key() == "input_shift") b.value().fill_(-0.5);
    }
  }
  const std::string path = TempPath("eid_mobilenet.safetensors");
  ExportIdentityEncoder(net, path);
  const Checkpoint file = ReadCheckpoint(path);
  EXPECT_EQ(file.metadata.at("backbone"), "mobilenet_v2");
  IdentityEncoder back = LoadExportedIdentityEncoder(path);
  EXPECT_EQ(back->options().backbone, Backbone::kMobileNetV2);
  EXPECT_EQ(back->options().mobilenet_width, 0.5);
  EXPECT_FALSE(back->options().last_stride_one);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({2, 3, 64, 32});
  EXPECT_TRUE(torch::equal(net->forward(x), back->forward(x)));
}

TEST(Export, ExportsWithoutABackboneFieldAreResNets) {
  IdentityEncoder net(R18());
  const std::string path = TempPath("eid_old.safetensors");
  ExportIdentityEncoder(net, path);
  Checkpoint file = ReadCheckpoint(path);
  file.metadata.erase("backbone");
  file.metadata.erase("mobilenet_width");
  WriteSafetensors(path, file.tensors, file.metadata);
  EXPECT_EQ(LoadExportedIdentityEncoder(path)->options().backbone, Backbone::kResNet);
  file.metadata["backbone"] = "vgg";
  file.metadata["mobilenet_width"] = "1";
  WriteSafetensors(path, file.tensors, file.metadata);
  try {
    LoadExportedIdentityEncoder(path);
    ADD_FAILURE() << "an unknown backbone was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metadata field 'backbone': backbone 'vgg' is not one of"), std::string::npos)
        << e.what();
  }
}

TEST(Export, PlainCheckpointIsNotAnExport) {
  try {
    LoadExportedIdentityEncoder(kData + "imagenet_r18_w16.safetensors");
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("metadata field 'format'"), std::string::npos) << e.what();
  }
}

// An export of a run whose weights diverged: `extract` wrote NaN features with exit 0. Now the load fails naming
// the file and the key.
TEST(Export, NonFiniteWeightsAreRefusedNamingTheKey) {
  IdentityEncoder net(R18());
  {
    torch::NoGradGuard no_grad;
    net->named_parameters()["layer1.0.conv1.weight"].view(-1)[3] = std::numeric_limits<float>::quiet_NaN();
  }
  const std::string path = TempPath("nan_eid.safetensors");
  ExportIdentityEncoder(net, path);
  try {
    LoadExportedIdentityEncoder(path);
    ADD_FAILURE() << "an export with a NaN weight was loaded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": key 'layer1.0.conv1.weight' holds 1 NaN or Inf value"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace gcl::models

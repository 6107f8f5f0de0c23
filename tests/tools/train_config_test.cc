// TrainConfig: presets parse and resolve, --set overrides reach nested, repeated and enum fields, and bad keys or
// values are errors that name them.
#include "tools/train/train_config.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <functional>
#include <string>
#include <vector>

namespace gcl::train {
namespace {

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(TrainConfigTest, EveryPresetParsesAndResolves) {
  for (const std::string name : {"quick", "tiny", "paper_market", "paper_duke", "paper_msmt"}) {
    proto::TrainConfig c = LoadTrainConfig("configs/" + name + ".pbtxt");
    if (name.rfind("paper_", 0) == 0) {
      // The paper presets need the dataset and a stage-1 model from the user.
      EXPECT_NE(ErrorOf([&] { ResolveTrainConfig(c); }), "") << name;
      ApplyOverride("data.root=/data/x", &c);
      ApplyOverride("data.mesh_dir=/data/mesh", &c);
      ApplyOverride("model.identity_init=/data/jvtc.pth", &c);
    }
    const proto::TrainConfig r = ResolveTrainConfig(c);
    EXPECT_EQ(r.run().name(), name) << name;
    EXPECT_EQ(r.model().embedding_dim(), r.run().feature_dim()) << name;
    EXPECT_GT(r.optim().identity_lr(), 0) << name;
  }
}

TEST(TrainConfigTest, PaperPresetKeepsReferenceNumbers) {
  proto::TrainConfig c = LoadTrainConfig("configs/paper_market.pbtxt");
  ApplyOverride("data.root=/d", &c);
  ApplyOverride("data.mesh_dir=/m", &c);
  ApplyOverride("model.identity_init=/j.pth", &c);
  const proto::TrainConfig r = ResolveTrainConfig(c);
  EXPECT_EQ(r.run().gan_warmup_epochs(), 40);  // reference §7
  EXPECT_EQ(r.run().joint_epochs(), 20);
  EXPECT_DOUBLE_EQ(r.optim().joint_generator_lr(), 1e-5);
  EXPECT_DOUBLE_EQ(r.optim().generator_lr(), 1e-4);
  EXPECT_DOUBLE_EQ(r.optim().identity_lr(), 3.5e-4);
  EXPECT_EQ(r.optim().identity_milestones(0), 10);
  EXPECT_EQ(r.data().height(), 256);
  EXPECT_EQ(r.run().num_negatives(), 8192);
}

TEST(TrainConfigTest, OverridesReachNestedRepeatedEnumAndStringFields) {
  proto::TrainConfig c = LoadTrainConfig("configs/quick.pbtxt");
  ApplyOverride("run.joint_epochs=7", &c);
  ApplyOverride("run.evaluate_each_epoch=false", &c);
  ApplyOverride("optim.identity_milestones=3,6", &c);
  ApplyOverride("ablation.joint_mode=GENERATION_ONLY", &c);
  ApplyOverride("data.cache_dir=/tmp/with space", &c);
  const proto::TrainConfig r = ResolveTrainConfig(c);
  EXPECT_EQ(r.run().joint_epochs(), 7);
  EXPECT_FALSE(r.run().evaluate_each_epoch());
  ASSERT_EQ(r.optim().identity_milestones_size(), 2);
  EXPECT_EQ(r.optim().identity_milestones(1), 6);
  EXPECT_EQ(r.ablation().joint_mode(), proto::AblationConfig::GENERATION_ONLY);
  EXPECT_DOUBLE_EQ(r.optim().memory_weight(), 0.0);  // "generation only": no view-invariant loss
  EXPECT_EQ(r.data().cache_dir(), "/tmp/with space");
}

TEST(TrainConfigTest, UnknownKeysAndBadValuesNameTheKey) {
  proto::TrainConfig c;
  EXPECT_NE(ErrorOf([&] { ApplyOverride("run.joint_epoch=3", &c); }).find("joint_epoch"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { ApplyOverride("nope.x=3", &c); }).find("nope"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { ApplyOverride("run.joint_epochs=three", &c); }).find("run.joint_epochs"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { ApplyOverride("run=3", &c); }).find("message"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { ApplyOverride("run.joint_epochs", &c); }).find("field path"), std::string::npos);
  EXPECT_NE(ErrorOf([&] { ParseTrainConfig("run { warmup_epoch: 1 }", "inline"); }).find("warmup_epoch"),
            std::string::npos);
}

TEST(TrainConfigTest, OutOfRangeValuesNameTheField) {
  const proto::TrainConfig quick = LoadTrainConfig("configs/quick.pbtxt");
  auto error = [&](const std::string& assignment) {
    proto::TrainConfig c = quick;
    ApplyOverride(assignment, &c);
    return ErrorOf([&] { ResolveTrainConfig(c); });
  };
  EXPECT_NE(error("optim.identity_lr=-1").find("optim.identity_lr"), std::string::npos);
  EXPECT_NE(error("model.depth=20").find("model.depth"), std::string::npos);
  EXPECT_NE(error("data.height=30").find("data.height"), std::string::npos);
  EXPECT_NE(error("run.rho=2").find("rho"), std::string::npos);
  EXPECT_NE(error("run.joint_epochs=-1").find("joint_epochs"), std::string::npos);
  EXPECT_NE(error("data.dataset=imagenet").find("data.dataset"), std::string::npos);
  EXPECT_NE(error("model.embedding_dim=64").find("model.embedding_dim"), std::string::npos);
  EXPECT_NE(error("optim.identity_milestones=5,3").find("identity_milestones"), std::string::npos);
  EXPECT_NE(error("run.gan_warmup_epochs=0").find("gan_warmup_epochs"), std::string::npos);
  EXPECT_NE(error("run.warmup_epochs=0").find("model.identity_init"), std::string::npos);
  EXPECT_EQ(error("run.joint_epochs=2"), "");
}

// Paper Tab. 3's per-term rows: ablation.view_invariant_terms picks the cumulative sets of L_vi (Eq. 6), L'_vi
// (Eq. 7), L''_vi (Eq. 8); the default is all three (GCL, the reference) and generation only has none.
TEST(TrainConfigTest, ViewInvariantTermsSelectTheTableThreeRows) {
  const proto::TrainConfig quick = LoadTrainConfig("configs/quick.pbtxt");
  auto weights = [&](const std::vector<std::string>& sets) {
    proto::TrainConfig c = quick;
    for (const std::string& s : sets) ApplyOverride(s, &c);
    const proto::TrainConfig r = ResolveTrainConfig(c);
    const ViewInvariantTermWeights w = TermWeightsOf(r.ablation());
    return std::vector<double>{w.l_vi, w.l_vi_prime, w.l_vi_double_prime};
  };
  EXPECT_EQ(ResolveTrainConfig(quick).ablation().view_invariant_terms(), proto::AblationConfig::ALL);
  EXPECT_EQ(weights({}), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(weights({"ablation.view_invariant_terms=ALL"}), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(weights({"ablation.view_invariant_terms=L_VI"}), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(weights({"ablation.view_invariant_terms=L_VI_PRIME"}), (std::vector<double>{1, 1, 0}));
  EXPECT_EQ(weights({"ablation.joint_mode=GENERATION_ONLY"}), (std::vector<double>{0, 0, 0}));
}

TEST(TrainConfigTest, ViewInvariantTermsAreValidatedNamingTheField) {
  const proto::TrainConfig quick = LoadTrainConfig("configs/quick.pbtxt");
  auto error = [&](const std::vector<std::string>& sets) {
    proto::TrainConfig c = quick;
    for (const std::string& s : sets) ApplyOverride(s, &c);
    return ErrorOf([&] { ResolveTrainConfig(c); });
  };
  // A term set means nothing without the generated view (CONTRAST_ONLY) or without the loss (GENERATION_ONLY).
  for (const std::string mode : {"GENERATION_ONLY", "CONTRAST_ONLY"}) {
    const std::string e = error({"ablation.joint_mode=" + mode, "ablation.view_invariant_terms=L_VI"});
    EXPECT_NE(e.find("ablation.view_invariant_terms"), std::string::npos) << e;
    EXPECT_NE(e.find(mode), std::string::npos) << e;
    EXPECT_EQ(error({"ablation.joint_mode=" + mode, "ablation.view_invariant_terms=ALL"}), "") << mode;
  }
  // Unknown names fail when parsed; proto3 keeps unknown numbers, which the resolution rejects.
  proto::TrainConfig c = quick;
  EXPECT_NE(ErrorOf([&] { ApplyOverride("ablation.view_invariant_terms=L_VI_TWO", &c); })
                .find("ablation.view_invariant_terms"),
            std::string::npos);
  auto number_error = [&](const std::string& ablation_text) {
    proto::TrainConfig n = quick;
    n.MergeFrom(ParseTrainConfig("ablation { " + ablation_text + " }", "inline"));
    return ErrorOf([&] { ResolveTrainConfig(n); });
  };
  const std::string unknown = number_error("view_invariant_terms: 9");
  EXPECT_NE(unknown.find("ablation.view_invariant_terms"), std::string::npos) << unknown;
  const std::string mode = number_error("joint_mode: 7");
  EXPECT_NE(mode.find("ablation.joint_mode"), std::string::npos) << mode;
}

}  // namespace
}  // namespace gcl::train

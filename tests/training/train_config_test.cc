// TrainConfig: presets parse and resolve, --set overrides reach nested, repeated and enum fields, and bad keys or
// values are errors that name them.
#include "training/train_config.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <functional>
#include <string>
#include <vector>

namespace gcl::training {
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

TEST(TrainConfigTest, ConfigNamesFindPresetsAndPathsResolveAgainstTheUsersFolder) {
  // The test runs in its runfiles, where configs/ holds the presets (as `bazel run` does).
  EXPECT_EQ(FindTrainConfig("tiny", "/home/ada"), "configs/tiny.pbtxt");
  EXPECT_EQ(FindTrainConfig("my/run.pbtxt", "/home/ada"), "/home/ada/my/run.pbtxt");
  EXPECT_EQ(FindTrainConfig("/etc/gcl/run.pbtxt", "/home/ada"), "/etc/gcl/run.pbtxt");
  try {
    FindTrainConfig("no_such_preset", "/home/ada");
    FAIL() << "a missing preset was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no configs/no_such_preset.pbtxt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(FindTrainConfig("", "/home/ada"), std::runtime_error);
}

TEST(TrainConfigTest, EveryUdaPresetResolvesWithASupervisedSourceWarmup) {
  const std::string real[] = {"uda_duke2market", "uda_market2duke", "uda_market2msmt", "uda_duke2msmt"};
  const std::string paper[] = {"paper_market", "paper_duke", "paper_msmt", "paper_msmt"};
  for (int i = 0; i < 4; ++i) {
    proto::TrainConfig c = LoadTrainConfig("configs/" + real[i] + ".pbtxt");
    // Without the user's roots: an error naming the missing one.
    EXPECT_NE(ErrorOf([&] { ResolveTrainConfig(c); }).find(".root"), std::string::npos) << real[i];
    ApplyOverride("data.root=/data/target", &c);
    ApplyOverride("data.mesh_dir=/data/mesh", &c);
    EXPECT_NE(ErrorOf([&] { ResolveTrainConfig(c); }).find("source.root"), std::string::npos) << real[i];
    ApplyOverride("source.root=/data/source", &c);
    const proto::TrainConfig r = ResolveTrainConfig(c);
    EXPECT_EQ(r.run().name(), real[i]);
    EXPECT_EQ(r.warmup().mode(), proto::WarmupConfig::SUPERVISED_SOURCE) << real[i];
    EXPECT_GT(r.run().warmup_epochs(), 0) << real[i];
    EXPECT_NE(r.source().dataset(), r.data().dataset()) << real[i];
    EXPECT_EQ(r.source().height(), r.data().height()) << real[i];
    EXPECT_EQ(r.source().width(), r.data().width()) << real[i];
    // Stages 2 and 3 are the target's reference run.
    proto::TrainConfig p = LoadTrainConfig("configs/" + paper[i] + ".pbtxt");
    ApplyOverride("data.root=/d", &p);
    ApplyOverride("data.mesh_dir=/m", &p);
    ApplyOverride("model.identity_init=/j.pth", &p);
    const proto::TrainConfig rp = ResolveTrainConfig(p);
    EXPECT_EQ(r.data().dataset(), rp.data().dataset()) << real[i];
    EXPECT_EQ(r.run().gan_warmup_epochs(), rp.run().gan_warmup_epochs()) << real[i];
    EXPECT_EQ(r.run().joint_epochs(), rp.run().joint_epochs()) << real[i];
    EXPECT_DOUBLE_EQ(r.run().rho(), rp.run().rho()) << real[i];
    EXPECT_EQ(r.run().num_negatives(), rp.run().num_negatives()) << real[i];
    EXPECT_DOUBLE_EQ(r.optim().joint_generator_lr(), rp.optim().joint_generator_lr()) << real[i];
  }
  EXPECT_EQ(LoadTrainConfig("configs/uda_duke2market.pbtxt").source().dataset(), "dukemtmc-reid");
  EXPECT_EQ(LoadTrainConfig("configs/uda_market2msmt.pbtxt").source().dataset(), "market1501");
  // The synthetic one runs as it is: a different world (preset and seed) as the source of the quick target.
  const proto::TrainConfig q = ResolveTrainConfig(LoadTrainConfig("configs/uda_quick.pbtxt"));
  EXPECT_EQ(q.warmup().mode(), proto::WarmupConfig::SUPERVISED_SOURCE);
  EXPECT_EQ(q.data().synthetic_preset(), "quick");
  EXPECT_NE(q.source().synthetic_preset(), q.data().synthetic_preset());
  EXPECT_NE(q.source().synthetic_seed(), q.data().synthetic_seed());
}

TEST(TrainConfigTest, UdaCombinationsThatCannotWorkNameTheField) {
  // The cases below take the target to be synthetic world 1 (source world 2 is then another world), whatever
  // world the preset itself trains on.
  const proto::TrainConfig quick = [] {
    proto::TrainConfig c = LoadTrainConfig("configs/quick.pbtxt");
    ApplyOverride("data.synthetic_seed=1", &c);
    return c;
  }();
  auto error = [&](const std::vector<std::string>& assignments) {
    proto::TrainConfig c = quick;
    for (const std::string& a : assignments) ApplyOverride(a, &c);
    return ErrorOf([&] { ResolveTrainConfig(c); });
  };
  // The default mode is the unsupervised warm-up, without a source.
  EXPECT_EQ(ResolveTrainConfig(quick).warmup().mode(), proto::WarmupConfig::UNSUPERVISED);
  EXPECT_FALSE(ResolveTrainConfig(quick).has_source());
  // SUPERVISED_SOURCE without a source.
  EXPECT_NE(error({"warmup.mode=SUPERVISED_SOURCE"}).find("TrainConfig.source.dataset"), std::string::npos);
  // A source without SUPERVISED_SOURCE would be silently unused.
  const std::string unused = error({"source.dataset=synthetic", "source.synthetic_seed=2"});
  EXPECT_NE(unused.find("TrainConfig.source:"), std::string::npos) << unused;
  EXPECT_NE(unused.find("SUPERVISED_SOURCE"), std::string::npos) << unused;
  EXPECT_NE(error({"warmup.mode=UNSUPERVISED", "source.dataset=synthetic"}).find("TrainConfig.source:"),
            std::string::npos);
  // The source is the target itself.
  EXPECT_NE(error({"warmup.mode=SUPERVISED_SOURCE", "source.dataset=synthetic"}).find("is the target dataset"),
            std::string::npos);
  // No stage 1 to use the source in.
  EXPECT_NE(error({"warmup.mode=SUPERVISED_SOURCE", "source.dataset=synthetic", "source.synthetic_seed=2",
                   "run.warmup_epochs=0", "model.identity_init=/e.safetensors"})
                .find("run.warmup_epochs"),
            std::string::npos);
  // Another input size than the target's, an unknown source dataset, a real one without its root.
  const std::vector<std::string> uda = {"warmup.mode=SUPERVISED_SOURCE", "source.dataset=synthetic",
                                        "source.synthetic_seed=2"};
  auto with = [&](const std::string& extra) {
    std::vector<std::string> a = uda;
    a.push_back(extra);
    return error(a);
  };
  EXPECT_NE(with("source.height=256").find("source.height/width"), std::string::npos);
  EXPECT_NE(with("source.dataset=imagenet").find("source.dataset"), std::string::npos);
  EXPECT_NE(with("source.dataset=market1501").find("source.root"), std::string::npos);
  // A real source needs no mesh renders (stage 1 uses none).
  EXPECT_EQ(error({"warmup.mode=SUPERVISED_SOURCE", "source.dataset=market1501", "source.root=/data/m"}), "");
  const proto::TrainConfig r = [&] {
    proto::TrainConfig c = quick;
    for (const std::string& a : uda) ApplyOverride(a, &c);
    return ResolveTrainConfig(c);
  }();
  EXPECT_EQ(r.source().height(), 80);  // the target's input size
  EXPECT_EQ(r.source().synthetic_preset(), "quick");
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

// Issue 18: values that were accepted (run.device=tpu, run.temperature=inf) or misreported
// (warmup_epochs=2147483647 overflowed the epoch sum into "every phase has 0 epochs") are refused when the config is
// resolved, naming the field and the allowed range.
TEST(TrainConfigTest, HostileValuesAreRefusedWhenResolved) {
  const proto::TrainConfig quick = LoadTrainConfig("configs/quick.pbtxt");
  auto error = [&](const std::vector<std::string>& assignments) {
    proto::TrainConfig c = quick;
    for (const std::string& a : assignments) ApplyOverride(a, &c);
    return ErrorOf([&] { ResolveTrainConfig(c); });
  };
  EXPECT_EQ(error({"run.device=tpu"}),
            "TrainConfig.run: RunConfig.device: \"tpu\" is not one of auto, cpu, cuda, cuda:N (or xpu[:N], mps where "
            "this LibTorch drives them)");
  EXPECT_EQ(
      error({"run.device=cuda:x"}),
      "TrainConfig.run: RunConfig.device: \"cuda:x\": the device index must be a number (cuda:0, cuda:1, ...)");
  for (const std::string device : {"auto", "cpu", "cuda", "cuda:1"}) {
    EXPECT_EQ(error({"run.device=" + device}), "") << device;  // whether a GPU exists is decided at run time
  }
  for (const std::string t : {"inf", "-inf", "nan", "-0.5", "11"}) {
    EXPECT_NE(error({"run.temperature=" + t}).find("RunConfig.temperature: must be a number in (0, 10]"),
              std::string::npos)
        << t << ": " << error({"run.temperature=" + t});
  }
  EXPECT_EQ(error({"run.temperature=0.07"}), "");
  EXPECT_EQ(error({"run.warmup_epochs=2147483647"}),
            "TrainConfig.run: RunConfig.warmup_epochs: must be in 0..100000, got 2147483647");
  EXPECT_EQ(error({"run.joint_epochs=2147483647", "run.gan_warmup_epochs=2147483647"}),
            "TrainConfig.run: RunConfig.gan_warmup_epochs: must be in 0..100000, got 2147483647");
  EXPECT_EQ(error({"run.warmup_epochs=100000", "run.gan_warmup_epochs=100000", "run.joint_epochs=100000"}), "");
  EXPECT_NE(error({"run.batch_size=1000000"}).find("RunConfig.batch_size: must be in 0..4096"), std::string::npos);
  EXPECT_NE(error({"data.height=4096"}).find("TrainConfig.data.height/width: must be multiples of 4 from 40"),
            std::string::npos);
  EXPECT_NE(error({"data.width=-8"}).find("data.height/width"), std::string::npos);
  EXPECT_NE(error({"model.width=1000"}).find("model.width: must be at most 16"), std::string::npos);
}

// The MobileNetV2 backbone option: defaults follow model.identity_init (width 1.75 and frozen batch norm for
// MoveNet-Thunder), a TF.js model needs the mobilenet_v2 backbone, and bad values name their field.
TEST(TrainConfigTest, BackboneOptionsResolveFromTheInit) {
  const proto::TrainConfig tiny = LoadTrainConfig("configs/tiny.pbtxt");
  auto resolve = [&](const std::vector<std::string>& sets) {
    proto::TrainConfig c = tiny;
    for (const std::string& s : sets) ApplyOverride(s, &c);
    return ResolveTrainConfig(c).model();
  };
  const proto::ModelConfig plain = resolve({});
  EXPECT_EQ(plain.backbone(), "resnet");
  EXPECT_EQ(plain.backbone_batch_norm(), "train");
  const proto::ModelConfig thunder =
      resolve({"model.backbone=mobilenet_v2", "model.identity_init=movenet-thunder"});
  EXPECT_EQ(thunder.mobilenet_width(), 1.75);
  EXPECT_EQ(thunder.backbone_batch_norm(), "frozen");
  const proto::ModelConfig lightning =
      resolve({"model.backbone=mobilenet_v2", "model.identity_init=/models/movenet-lightning.json"});
  EXPECT_EQ(lightning.mobilenet_width(), 1.0);
  EXPECT_EQ(lightning.backbone_batch_norm(), "frozen");
  const proto::ModelConfig scratch = resolve({"model.backbone=mobilenet_v2", "model.mobilenet_width=0.5"});
  EXPECT_EQ(scratch.mobilenet_width(), 0.5);
  EXPECT_EQ(scratch.backbone_batch_norm(), "train");
  EXPECT_EQ(resolve({"model.backbone=mobilenet_v2", "model.identity_init=movenet-thunder",
                     "model.backbone_batch_norm=train"})
                .backbone_batch_norm(),
            "train");
  // A resolved config resolves to itself (what --resume and //tools/generate rely on, the latter without the init).
  proto::TrainConfig again = tiny;
  *again.mutable_model() = thunder;
  again.mutable_model()->clear_identity_init();
  EXPECT_EQ(ResolveTrainConfig(again).model().mobilenet_width(), 1.75);
  EXPECT_EQ(ResolveTrainConfig(again).model().backbone_batch_norm(), "frozen");

  auto error = [&](const std::vector<std::string>& sets) { return ErrorOf([&] { resolve(sets); }); };
  EXPECT_NE(error({"model.backbone=vgg"}).find("model.backbone"), std::string::npos);
  EXPECT_NE(error({"model.identity_init=movenet-thunder"}).find("model.identity_init"), std::string::npos);
  EXPECT_NE(error({"model.backbone=mobilenet_v2", "model.mobilenet_width=-1"}).find("model.mobilenet_width"),
            std::string::npos);
  EXPECT_NE(error({"model.backbone_batch_norm=sometimes"}).find("model.backbone_batch_norm"), std::string::npos);
  EXPECT_TRUE(IsTfjsIdentityInit("movenet-lightning"));
  EXPECT_TRUE(IsTfjsIdentityInit("/x/model.json"));
  EXPECT_FALSE(IsTfjsIdentityInit("/x/jvtc.pth"));
  EXPECT_FALSE(IsTfjsIdentityInit(""));
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
}  // namespace gcl::training

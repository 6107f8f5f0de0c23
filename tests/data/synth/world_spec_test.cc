#include "data/synth/world_spec.h"

#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gcl::data {
namespace {

using ::testing::HasSubstr;

TEST(WorldSpecTest, EveryPresetIsValid) {
  for (const std::string& name : PresetNames()) {
    const WorldSpec spec = WorldSpecForPreset(name);
    EXPECT_EQ(spec.preset, name);
    EXPECT_NO_THROW(ValidateWorldSpec(spec)) << name;
  }
}

TEST(WorldSpecTest, PresetSizesFollowTheirPurpose) {
  const WorldSpec tiny = WorldSpecForPreset("tiny"), quick = WorldSpecForPreset("quick"),
                  bench = WorldSpecForPreset("bench");
  EXPECT_LT(tiny.num_train_ids, quick.num_train_ids);
  EXPECT_EQ(quick.crop_height, 128);  // Market-1501 crops
  EXPECT_EQ(quick.crop_width, 64);
  EXPECT_EQ(bench.crop_height, 256);  // GCL's input size
  EXPECT_EQ(bench.crop_width, 128);
}

TEST(WorldSpecTest, UnknownPresetNamesTheKnownOnes) {
  try {
    WorldSpecForPreset("huge");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'huge'"));
    EXPECT_THAT(e.what(), HasSubstr("tiny, quick, hard, bench"));
  }
}

TEST(WorldSpecTest, ValidationNamesTheField) {
  WorldSpec spec = WorldSpecForPreset("quick");
  spec.max_cameras_per_id = spec.num_cameras + 1;
  try {
    ValidateWorldSpec(spec);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("max_cameras_per_id"));
  }
  spec = WorldSpecForPreset("quick");
  spec.min_cameras_per_id = 1;  // a query could have no match in another camera
  EXPECT_THROW(ValidateWorldSpec(spec), std::runtime_error);
}

TEST(WorldSpecTest, OverridesSetIntAndFloatFields) {
  WorldSpec spec = WorldSpecForPreset("quick");
  ApplyWorldSpecOverrides("num_train_ids=7,occlusion_prob=0.5", spec);
  EXPECT_EQ(spec.num_train_ids, 7);
  EXPECT_FLOAT_EQ(spec.occlusion_prob, 0.5f);
  EXPECT_THAT(WorldSpecToText(spec), HasSubstr("train=7"));
}

TEST(WorldSpecTest, BadOverridesNameTheProblem) {
  WorldSpec spec = WorldSpecForPreset("quick");
  try {
    ApplyWorldSpecOverrides("num_trains=7", spec);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("num_trains"));
  }
  EXPECT_THROW(ApplyWorldSpecOverrides("num_train_ids=7x", spec), std::runtime_error);
  EXPECT_THROW(ApplyWorldSpecOverrides("num_train_ids", spec), std::runtime_error);
}

}  // namespace
}  // namespace gcl::data

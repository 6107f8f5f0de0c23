// Batches from a Market-style tree with GCL render folders written here: shapes, values, angles, determinism.
#include "data/pipeline/batch_loader.h"

#include <filesystem>
#include <set>
#include <string>

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/pipeline/samplers.h"
#include "tests/data/datasets/fixtures.h"

namespace gcl::data {
namespace {

class BatchLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteMarketTree(dir_.path() + "/market", dir_.path() + "/mesh", testing::SmallMarketSpec(4, 4));
    DatasetOptions options;
    options.mesh_dir = dir_.path() + "/mesh";
    dataset_ = LoadMarket1501(dir_.path() + "/market", options);
  }

  PipelineOptions Small() const {
    PipelineOptions p;
    p.transform.height = 32;
    p.transform.width = 16;
    return p;
  }

  testing::TempDir dir_;
  ReidDataset dataset_;
};

TEST_F(BatchLoaderTest, ShapesTypesAndContents) {
  BatchLoader loader(dataset_.train.records, Small());
  const std::vector<Sample> samples = SamplesOf(dataset_.train);
  const std::vector<Sample> first(samples.begin(), samples.begin() + 5);
  const Batch b = loader.Load(first, 0, 0);
  EXPECT_EQ(b.image.sizes(), (at::IntArrayRef{5, 3, 32, 16}));
  EXPECT_EQ(b.s_ori.sizes(), (at::IntArrayRef{5, 1, 32, 16}));
  EXPECT_EQ(b.s_new.sizes(), (at::IntArrayRef{5, 1, 32, 16}));
  EXPECT_EQ(b.image.scalar_type(), at::kFloat);
  EXPECT_EQ(b.angle.scalar_type(), at::kLong);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(b.index[i].item<int64_t>(), first[i].index);
    EXPECT_EQ(b.label[i].item<int64_t>(), first[i].label);
    const int angle = static_cast<int>(b.angle[i].item<int64_t>());
    EXPECT_TRUE(angle >= 45 && angle <= 315 && angle % 45 == 0) << angle;
    // The fixture renders are flat grey at RenderValue(angle) (plus a little JPEG noise), so the mean tells
    // which render was loaded: s_ori from render/, s_new from render_<angle>/.
    const double s_ori = b.s_ori[i].mean().item<double>() * 0.5 + 0.5;
    const double s_new = b.s_new[i].mean().item<double>() * 0.5 + 0.5;
    EXPECT_NEAR(s_ori * 255, testing::RenderValue(0) + 1, 2.0);
    EXPECT_NEAR(s_new * 255, testing::RenderValue(angle) + 1, 2.0);
  }
  EXPECT_GE(b.s_ori.min().item<float>(), -1.0f);
  EXPECT_LE(b.s_new.max().item<float>(), 1.0f);
}

TEST_F(BatchLoaderTest, SameSeedSameBatchesForAnyThreadCount) {
  const std::vector<Sample> samples = SamplesOf(dataset_.train);
  for (bool augment : {false, true}) {
    PipelineOptions one = Small();
    one.seed = 42;
    if (augment) one.transform.augment = AugmentOptions::Traditional();
    PipelineOptions two = one;
    two.threads = 2;
    BatchLoader a(dataset_.train.records, one);
    BatchLoader b(dataset_.train.records, two);
    uint64_t n = 0;
    for (const auto& batch : ShuffledBatches(samples, 4, one.seed, /*epoch=*/3)) {
      const Batch x = a.Load(batch, 3, n);
      const Batch y = b.Load(batch, 3, n);
      ++n;
      EXPECT_TRUE(at::equal(x.image, y.image));
      EXPECT_TRUE(at::equal(x.s_ori, y.s_ori));
      EXPECT_TRUE(at::equal(x.s_new, y.s_new));
      EXPECT_TRUE(at::equal(x.angle, y.angle));
      EXPECT_TRUE(at::equal(x.index, y.index));
    }
    EXPECT_EQ(n, 4u);
  }
  // Another seed draws other angles.
  PipelineOptions other = Small();
  other.seed = 43;
  PipelineOptions base = Small();
  base.seed = 42;
  BatchLoader c(dataset_.train.records, other);
  BatchLoader d(dataset_.train.records, base);
  EXPECT_FALSE(at::equal(c.Load(samples, 0, 0).angle, d.Load(samples, 0, 0).angle));
  EXPECT_FALSE(at::equal(d.Load(samples, 0, 0).angle, d.Load(samples, 1, 0).angle));  // and another epoch
}

TEST_F(BatchLoaderTest, AngleSets) {
  const std::vector<Sample> samples = SamplesOf(dataset_.train);
  PipelineOptions all = Small();
  PipelineOptions reference = Small();
  reference.new_angles = kReferenceNewAngles;
  std::set<int64_t> seen_all;
  std::set<int64_t> seen_reference;
  BatchLoader la(dataset_.train.records, all);
  BatchLoader lr(dataset_.train.records, reference);
  for (uint64_t batch = 0; batch < 8; ++batch) {  // 8 x 16 draws
    const Batch a = la.Load(samples, 0, batch);
    const Batch r = lr.Load(samples, 0, batch);
    for (int i = 0; i < a.angle.size(0); ++i) {
      seen_all.insert(a.angle[i].item<int64_t>());
      seen_reference.insert(r.angle[i].item<int64_t>());
    }
  }
  EXPECT_EQ(seen_all, (std::set<int64_t>{45, 90, 135, 180, 225, 270, 315}));
  EXPECT_EQ(seen_reference, (std::set<int64_t>{45, 90, 135, 180, 225, 270}));  // 315 never drawn
}

TEST_F(BatchLoaderTest, AugmentationKeepsShapesAndErasesPhotosOnly) {
  PipelineOptions p = Small();
  p.transform.augment = AugmentOptions::Traditional();
  p.transform.augment.erasing_probability = 1.0;
  p.transform.augment.flip_probability = 0.0;
  p.transform.augment.pad = 0;
  BatchLoader loader(dataset_.train.records, p);
  const Batch b = loader.Load(SamplesOf(dataset_.train), 0, 0);
  EXPECT_EQ(b.image.sizes(), (at::IntArrayRef{16, 3, 32, 16}));
  for (int i = 0; i < 16; ++i) {
    // An erased rectangle is exactly 0 in all three channels; the photos themselves are never the mean colour.
    EXPECT_GT(b.image[i].eq(0).sum().item<int64_t>(), 0);
    EXPECT_EQ(b.s_ori[i].eq(0).sum().item<int64_t>(), 0);
  }
}

TEST_F(BatchLoaderTest, ExtractionWithoutStructures) {
  PipelineOptions p = Small();
  p.load_structures = false;
  BatchLoader loader(dataset_.gallery.records, p);
  const auto batches = SequentialBatches(SamplesOf(dataset_.gallery), 2);
  ASSERT_EQ(batches.size(), 2u);
  const Batch b = loader.Load(batches[1], 0, 1);
  EXPECT_EQ(b.image.size(0), 1);
  EXPECT_FALSE(b.s_ori.defined());
  EXPECT_EQ(b.angle[0].item<int64_t>(), 0);
  EXPECT_EQ(b.label[0].item<int64_t>(), kNoLabel);
  // Pixel values: the photo is the fixture's colour, ImageNet-normalised.
  const at::Tensor unnormalised =
      b.image[0] * at::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1}) + at::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  EXPECT_GT(unnormalised.min().item<float>(), 0.0f);
  EXPECT_LT(unnormalised.max().item<float>(), 1.0f);
}

TEST_F(BatchLoaderTest, BadInputIsNamed) {
  PipelineOptions p = Small();
  p.new_angles = {45, 30};
  EXPECT_THAT([&] { BatchLoader(dataset_.train.records, p); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr("new_angles holds 30")));
  EXPECT_THAT([&] { BatchLoader(dataset_.gallery.records, Small()); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr("has no mesh renders")));
  BatchLoader loader(dataset_.train.records, Small());
  EXPECT_THROW(loader.Load({{99, 0}}, 0, 0), std::out_of_range);
  // A render that went bad after loading is reported by path.
  const ImageRecord& r = dataset_.train.records[2];
  testing::WriteGarbage(r.StructurePath(0));
  EXPECT_THAT([&] { loader.Load({{2, r.label}}, 0, 0); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr(r.StructurePath(0))));
}

}  // namespace
}  // namespace gcl::data

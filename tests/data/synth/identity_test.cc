#include "data/synth/identity.h"

#include <map>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gcl::data {
namespace {

bool InUnitCube(const cv::Vec3f& c) {
  return c[0] >= 0.f && c[0] <= 1.f && c[1] >= 0.f && c[1] <= 1.f && c[2] >= 0.f && c[2] <= 1.f;
}

TEST(IdentityTest, SamplingIsDeterministicPerSeed) {
  Rng a(11), b(11);
  const auto templates_a = SampleOutfitTemplates(5, a);
  const auto templates_b = SampleOutfitTemplates(5, b);
  EXPECT_EQ(IdentityToJson(SampleIdentity(3, templates_a, 0.05f, a)),
            IdentityToJson(SampleIdentity(3, templates_b, 0.05f, b)));
}

TEST(IdentityTest, FieldsStayInRange) {
  Rng rng(5);
  const auto templates = SampleOutfitTemplates(10, rng);
  for (int pid = 1; pid <= 200; ++pid) {
    const Identity id = SampleIdentity(pid, templates, 0.1f, rng);
    EXPECT_EQ(id.pid, pid);
    const ShapeParams& s = id.shape;
    for (float v : {s.gender, s.muscle, s.weight, s.height, s.african, s.asian, s.caucasian}) {
      EXPECT_GE(v, 0.f);
      EXPECT_LE(v, 1.f);
    }
    EXPECT_NEAR(s.african + s.asian + s.caucasian, 1.f, 1e-5f);
    for (const cv::Vec3f& c : {id.skin_colour, id.hair_colour, id.outfit.top_colour, id.outfit.top_secondary,
                               id.outfit.bottom_colour, id.outfit.shoe_colour, id.outfit.bag_colour}) {
      EXPECT_TRUE(InUnitCube(c));
    }
    EXPECT_GE(id.outfit.template_id, 0);
    EXPECT_LT(id.outfit.template_id, 10);
  }
}

TEST(IdentityTest, LookAlikesShareTemplatesWithSmallColourChanges) {
  Rng rng(9);
  const auto templates = SampleOutfitTemplates(4, rng);
  std::map<int, int> per_template;
  for (int pid = 1; pid <= 100; ++pid) {
    const Identity id = SampleIdentity(pid, templates, 0.03f, rng);
    ++per_template[id.outfit.template_id];
    const Outfit& t = templates[id.outfit.template_id];
    EXPECT_EQ(id.outfit.top, t.top);
    EXPECT_EQ(id.outfit.bottom, t.bottom);
    EXPECT_LT(cv::norm(id.outfit.top_colour - t.top_colour), 0.35);
  }
  EXPECT_EQ(per_template.size(), 4u);
  for (const auto& [t, count] : per_template) EXPECT_GT(count, 10) << "template " << t;
}

TEST(IdentityTest, JsonNamesShapeAndOutfit) {
  Rng rng(2);
  const auto templates = SampleOutfitTemplates(2, rng);
  const std::string json = IdentityToJson(SampleIdentity(1, templates, 0.f, rng));
  EXPECT_THAT(json, ::testing::HasSubstr("\"shape\":{\"gender\":"));
  EXPECT_THAT(json, ::testing::HasSubstr("\"outfit\":{\"template\":"));
  EXPECT_THAT(json, ::testing::HasSubstr("\"bag\":"));
}

TEST(IdentityTest, NoTemplatesThrows) {
  Rng rng(1);
  EXPECT_THROW(SampleIdentity(1, {}, 0.f, rng), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::data

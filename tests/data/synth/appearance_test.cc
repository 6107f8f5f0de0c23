#include "data/synth/appearance.h"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

namespace gcl::data {
namespace {

class AppearanceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new BodyModel(BodyModel::LoadDefault()); }
  static void TearDownTestSuite() { delete model_; }

  static Identity PlainPerson() {
    Identity id;
    id.pid = 1;
    id.skin_colour = {0.9f, 0.7f, 0.6f};
    id.hair_colour = {0.05f, 0.05f, 0.05f};
    id.outfit.top_colour = {0.8f, 0.1f, 0.1f};
    id.outfit.top_secondary = {0.1f, 0.1f, 0.8f};
    id.outfit.bottom_colour = {0.1f, 0.1f, 0.3f};
    id.outfit.shoe_colour = {0.2f, 0.2f, 0.2f};
    id.outfit.print_colour = {1.f, 1.f, 0.f};
    id.outfit.bag_colour = {0.f, 0.6f, 0.f};
    return id;
  }

  static BodyModel* model_;
};

BodyModel* AppearanceTest::model_ = nullptr;

TEST_F(AppearanceTest, ColoursFollowPartsAndSwapToBgr) {
  const PosedMesh body = model_->Pose(BodyShape{}, BodyPose{});
  const DressedBody dressed = DressBody(body, PlainPerson(), *model_, false);
  ASSERT_EQ(dressed.mesh.vertices.size(), body.vertices.size());  // no bag, no extra geometry
  ASSERT_EQ(dressed.colours_bgr.size(), body.vertices.size());
  for (size_t v = 0; v < body.vertices.size(); ++v) {
    const cv::Vec3f& bgr = dressed.colours_bgr[v];
    if (body.parts[v] == BodyPart::kFoot) {
      EXPECT_NEAR(bgr[0], bgr[2], 1e-6f);  // grey shoes
    } else if (body.parts[v] == BodyPart::kLowerLeg) {
      EXPECT_GT(bgr[0], 2.f * bgr[2]) << "trousers are dark blue (B > R in BGR)";
    } else if (body.parts[v] == BodyPart::kTorso) {
      EXPECT_GT(bgr[2], 4.f * bgr[0]) << "the shirt is red (R is the last BGR channel)";
    }
  }
}

TEST_F(AppearanceTest, FrontPrintAndOpenJacketShowFromTheFrontOnly) {
  const PosedMesh body = model_->Pose(BodyShape{}, BodyPose{});
  Identity id = PlainPerson();
  id.outfit.front_print = true;
  id.outfit.top = TopKind::kOpenJacket;
  const DressedBody dressed = DressBody(body, id, *model_, false);
  int front_special = 0, back_special = 0;
  for (size_t v = 0; v < body.vertices.size(); ++v) {
    if (body.parts[v] != BodyPart::kTorso) continue;
    const cv::Vec3f& bgr = dressed.colours_bgr[v];
    const bool not_red = bgr[2] < 2.f * std::max(bgr[0], bgr[1]);
    const float angle = std::abs(body.body_coords[v][1]);
    if (angle < 0.6f) front_special += not_red;
    if (angle > 2.5f) back_special += not_red;
  }
  EXPECT_GT(front_special, 20);
  EXPECT_EQ(back_special, 0);
}

TEST_F(AppearanceTest, BagsAddBoxesWithCompleteVertexData) {
  const PosedMesh body = model_->Pose(BodyShape{}, BodyPose{});
  Identity id = PlainPerson();
  id.outfit.bag = BagKind::kBackpack;
  const DressedBody backpack = DressBody(body, id, *model_, false);
  EXPECT_EQ(backpack.mesh.vertices.size(), body.vertices.size() + 24);
  EXPECT_EQ(backpack.mesh.triangles.size(), body.triangles.size() + 12);
  EXPECT_EQ(backpack.mesh.normals.size(), backpack.mesh.vertices.size());
  EXPECT_EQ(backpack.mesh.parts.size(), backpack.mesh.vertices.size());
  EXPECT_EQ(backpack.mesh.sides.size(), backpack.mesh.vertices.size());
  EXPECT_EQ(backpack.mesh.body_coords.size(), backpack.mesh.vertices.size());
  EXPECT_EQ(backpack.colours_bgr.size(), backpack.mesh.vertices.size());
  // The backpack hangs behind the body (-z).
  for (size_t v = body.vertices.size(); v < backpack.mesh.vertices.size(); ++v) {
    EXPECT_LT(backpack.mesh.vertices[v][2], 0.05f);
  }
  id.outfit.bag = BagKind::kHandbag;
  EXPECT_EQ(DressBody(body, id, *model_, false).mesh.vertices.size(), body.vertices.size());
  BodyPose carry;
  carry.kind = BodyPose::Kind::kCarry;
  const PosedMesh carrying = model_->Pose(BodyShape{}, carry);
  EXPECT_EQ(DressBody(carrying, id, *model_, true).mesh.vertices.size(), carrying.vertices.size() + 24);
}

TEST_F(AppearanceTest, RejectsInconsistentMesh) {
  PosedMesh body = model_->Pose(BodyShape{}, BodyPose{});
  body.parts.pop_back();
  EXPECT_THROW(DressBody(body, PlainPerson(), *model_, false), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::data

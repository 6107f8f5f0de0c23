#include "data/body/body_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gcl::data {
namespace {

using Vec3 = std::array<float, 3>;

const BodyModel& Model() {
  static const BodyModel* const model = new BodyModel(BodyModel::LoadDefault());
  return *model;
}

double Dist(const Vec3& a, const Vec3& b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

float Stature(const std::vector<Vec3>& v) {
  float lo = 1e9f, hi = -1e9f;
  for (const auto& p : v) lo = std::min(lo, p[1]), hi = std::max(hi, p[1]);
  return hi - lo;
}

BodyPose Walk(float phase, BodyPose::Kind kind = BodyPose::Kind::kWalk) {
  BodyPose p;
  p.kind = kind;
  p.phase = phase;
  return p;
}

TEST(BodyModelTest, LoadsTheEmbeddedAsset) {
  const BodyModel& m = Model();
  EXPECT_EQ(m.num_vertices(), 13380);
  EXPECT_EQ(m.num_triangles(), 26756);
  EXPECT_EQ(m.bone_names().size(), 53u);
  EXPECT_GE(m.BoneIndex("hand_r"), 0);
  EXPECT_EQ(m.BoneIndex("no_such_bone"), -1);
}

TEST(BodyModelTest, FileAssetEqualsTheEmbeddedOneAndDamageIsReported) {
  // The test's working directory is its runfiles tree (data dependency in tests/data/body/BUILD).
  const std::string path = "data/body/assets/makehuman_body.bin";
  const BodyModel from_file = BodyModel::LoadFromFile(path);
  BodyShape shape;
  shape.weight = 0.9f;
  EXPECT_EQ(from_file.Pose(shape, Walk(0.6f)).vertices, Model().Pose(shape, Walk(0.6f)).vertices);
  std::ifstream in(path, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000000u);
  for (std::size_t cut : {std::size_t{40}, bytes.size() / 2, bytes.size() - 1}) {
    try {
      BodyModel::LoadFromBytes(bytes.data(), cut, "cut.bin");
      FAIL() << "expected a throw at " << cut;
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("cut.bin: truncated")) << cut;
    }
  }
  std::vector<unsigned char> longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(BodyModel::LoadFromBytes(longer.data(), longer.size(), "long.bin"), std::runtime_error);
}

TEST(BodyModelTest, PoseIsDeterministic) {
  BodyShape shape;
  shape.gender = 0.3f, shape.weight = 0.8f;
  const PosedMesh a = Model().Pose(shape, Walk(0.37f));
  const PosedMesh b = Model().Pose(shape, Walk(0.37f));
  ASSERT_EQ(a.vertices.size(), b.vertices.size());
  for (std::size_t i = 0; i < a.vertices.size(); ++i) {
    ASSERT_EQ(a.vertices[i], b.vertices[i]) << i;
    ASSERT_EQ(a.normals[i], b.normals[i]) << i;
  }
}

TEST(BodyModelTest, RestPoseReproducesTheShapedMesh) {
  // With identity joint rotations, skinning must give back the shaped mesh, only lifted so the feet touch y = 0.
  BodyShape shape;
  shape.gender = 0.9f, shape.muscle = 0.7f, shape.height = 0.2f;
  const auto shaped = Model().ShapedVertices(shape);
  const PosedMesh rest = Model().RestPose(shape);
  ASSERT_EQ(shaped.size(), rest.vertices.size());
  float min_y = 1e9f;
  for (const auto& p : shaped) min_y = std::min(min_y, p[1]);
  for (std::size_t i = 0; i < shaped.size(); ++i) {
    EXPECT_NEAR(rest.vertices[i][0], shaped[i][0], 1e-5f) << i;
    EXPECT_NEAR(rest.vertices[i][1], shaped[i][1] - min_y, 1e-5f) << i;
    EXPECT_NEAR(rest.vertices[i][2], shaped[i][2], 1e-5f) << i;
  }
}

TEST(BodyModelTest, BonesMoveRigidlyWhereOneBoneOwnsTheVertices) {
  // Vertices skinned to a single bone keep their mutual distances under any pose (a rigid transform): the
  // skull under the head bone, the shin under the calf, the forearm under the lower arm while walking.
  const BodyModel& m = Model();
  const BodyShape shape;
  const PosedMesh rest = m.RestPose(shape);
  const PosedMesh walk = m.Pose(shape, Walk(0.1f));
  for (const char* bone : {"head", "calf_l", "lowerarm_r", "thigh_r"}) {
    const int b = m.BoneIndex(bone);
    std::vector<int> ids;
    for (int i = 0; i < m.num_vertices(); ++i)
      if (m.skin_bones()[i][0] == b && m.skin_weights()[i][0] == 1.f) ids.push_back(i);
    ASSERT_GT(ids.size(), 20u) << bone;
    double worst = 0;
    for (std::size_t k = 1; k < ids.size(); ++k)
      worst = std::max(worst, std::abs(Dist(rest.vertices[ids[k]], rest.vertices[ids[0]]) -
                                       Dist(walk.vertices[ids[k]], walk.vertices[ids[0]])));
    EXPECT_LT(worst, 1e-5) << bone;
  }
  // And the posed mesh really moved: the left calf swings back in mid-swing.
  EXPECT_GT(Dist(rest.joints[m.BoneIndex("foot_l")], walk.joints[m.BoneIndex("foot_l")]), 0.05);
}

TEST(BodyModelTest, HeightSliderChangesStature) {
  BodyShape lo, mid, hi;
  lo.height = 0.f, hi.height = 1.f;
  const float s_lo = Stature(Model().ShapedVertices(lo));
  const float s_mid = Stature(Model().ShapedVertices(mid));
  const float s_hi = Stature(Model().ShapedVertices(hi));
  EXPECT_GT(s_mid, 1.5f);
  EXPECT_LT(s_mid, 1.95f);
  EXPECT_LT(s_lo, 0.92f * s_mid);
  EXPECT_GT(s_hi, 1.08f * s_mid);
}

TEST(BodyModelTest, SlidersBlendTargetsLinearlyAsMacroJsonSays) {
  // Within a half range a slider's target weight is linear, so the mesh at 0.75 is the mean of 0.5 and 1.0.
  auto check_midpoint = [](BodyShape a, BodyShape mid, BodyShape b) {
    const auto va = Model().ShapedVertices(a), vm = Model().ShapedVertices(mid), vb = Model().ShapedVertices(b);
    double worst = 0;
    for (std::size_t i = 0; i < va.size(); ++i)
      for (int k = 0; k < 3; ++k) worst = std::max(worst, std::abs(0.5 * (va[i][k] + vb[i][k]) - vm[i][k]));
    return worst;
  };
  BodyShape a, m, b;
  m.height = 0.75f, b.height = 1.f;
  EXPECT_LT(check_midpoint(a, m, b), 1e-5);
  a = m = b = BodyShape{};
  a.weight = 0.f, m.weight = 0.25f;
  EXPECT_LT(check_midpoint(a, m, b), 1e-5);
  a = m = b = BodyShape{};
  a.gender = 0.f, m.gender = 0.5f, b.gender = 1.f;
  // Gender multiplies every target family; with muscle/weight/height average it is still linear.
  EXPECT_LT(check_midpoint(a, m, b), 1e-5);
  // Ethnicity weights are normalised to sum 1: (1, 1, 0) is the mean of (1, 0, 0) and (0, 1, 0).
  BodyShape af, as, mix;
  af.african = 1, af.asian = 0, af.caucasian = 0;
  as.african = 0, as.asian = 1, as.caucasian = 0;
  mix.african = 1, mix.asian = 1, mix.caucasian = 0;
  EXPECT_LT(check_midpoint(af, mix, as), 1e-5);
}

TEST(BodyModelTest, WeightSliderWidensTheWaist) {
  auto waist_width = [](const BodyShape& s) {
    const PosedMesh m = Model().Pose(s, BodyPose{});
    const float stature = Stature(m.vertices);
    float lo = 1e9f, hi = -1e9f;
    for (std::size_t i = 0; i < m.vertices.size(); ++i)
      if (m.parts[i] == BodyPart::kTorso && std::abs(m.vertices[i][1] / stature - 0.6f) < 0.02f)
        lo = std::min(lo, m.vertices[i][0]), hi = std::max(hi, m.vertices[i][0]);
    return hi - lo;
  };
  BodyShape thin, heavy;
  thin.weight = 0.f, heavy.weight = 1.f;
  EXPECT_GT(waist_width(heavy), 1.2f * waist_width(thin));
}

TEST(BodyModelTest, FeetOnTheGroundInEveryPose) {
  for (float phase : {0.f, 0.13f, 0.5f, 0.77f}) {
    for (auto kind : {BodyPose::Kind::kStand, BodyPose::Kind::kWalk, BodyPose::Kind::kCarry}) {
      const PosedMesh m = Model().Pose(BodyShape{}, Walk(phase, kind));
      float min_y = 1e9f;
      for (const auto& v : m.vertices) min_y = std::min(min_y, v[1]);
      EXPECT_NEAR(min_y, 0.f, 1e-6f);
      // The pelvis joint stays on the turning axis.
      const auto& pelvis = m.joints[Model().BoneIndex("pelvis")];
      EXPECT_NEAR(pelvis[0], 0.f, 1e-4f);
      EXPECT_NEAR(pelvis[2], 0.f, 1e-4f);
    }
  }
}

TEST(BodyModelTest, GaitIsPeriodicAndHalfACycleMirrorsIt) {
  const BodyModel& m = Model();
  const PosedMesh a = m.Pose(BodyShape{}, Walk(0.25f));
  const PosedMesh wrapped = m.Pose(BodyShape{}, Walk(1.25f));
  for (std::size_t i = 0; i < a.vertices.size(); i += 97)
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.vertices[i][k], wrapped.vertices[i][k], 1e-5f);
  // At 0.25 the left foot is ahead; half a cycle later the right foot is where the left was (mirrored in x).
  const PosedMesh b = m.Pose(BodyShape{}, Walk(0.75f));
  const auto J = [&](const PosedMesh& p, const char* bone) { return p.joints[m.BoneIndex(bone)]; };
  EXPECT_GT(J(a, "foot_l")[2], J(a, "foot_r")[2] + 0.3f);
  EXPECT_GT(J(a, "hand_r")[2], J(a, "hand_l")[2] + 0.1f);  // arms swing opposite to the legs
  for (const auto& [l, r] : std::map<std::string, std::string>{{"foot_l", "foot_r"}, {"hand_l", "hand_r"},
                                                               {"calf_l", "calf_r"}}) {
    EXPECT_NEAR(J(a, l.c_str())[0], -J(b, r.c_str())[0], 0.01f) << l;
    EXPECT_NEAR(J(a, l.c_str())[1], J(b, r.c_str())[1], 0.01f) << l;
    EXPECT_NEAR(J(a, l.c_str())[2], J(b, r.c_str())[2], 0.01f) << l;
  }
}

TEST(BodyModelTest, CarryingArmHangsStillAwayFromTheBody) {
  const BodyModel& m = Model();
  const int hand_r = m.BoneIndex("hand_r"), hand_l = m.BoneIndex("hand_l");
  const PosedMesh a = m.Pose(BodyShape{}, Walk(0.25f, BodyPose::Kind::kCarry));
  const PosedMesh b = m.Pose(BodyShape{}, Walk(0.75f, BodyPose::Kind::kCarry));
  // Only the torso's counter-twist moves it a little.
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(a.joints[hand_r][k], b.joints[hand_r][k], 0.05f);
  EXPECT_GT(std::abs(a.joints[hand_l][2] - b.joints[hand_l][2]), 0.15f);  // the free arm swings
  const PosedMesh stand = m.Pose(BodyShape{}, BodyPose{});
  EXPECT_LT(a.joints[hand_r][0], stand.joints[hand_r][0] - 0.02f);  // further out to the right (-x)
  BodyPose bad = Walk(0.f, BodyPose::Kind::kCarry);
  bad.carry_side = BodySide::kCenter;
  EXPECT_THROW(m.Pose(BodyShape{}, bad), std::runtime_error);
}

TEST(BodyModelTest, PartsAndSidesAreAnatomical) {
  const PosedMesh m = Model().Pose(BodyShape{}, BodyPose{});
  std::map<BodyPart, int> count;
  std::map<BodyPart, double> mean_y;
  int left = 0, right = 0;
  for (std::size_t i = 0; i < m.vertices.size(); ++i) {
    ++count[m.parts[i]];
    mean_y[m.parts[i]] += m.vertices[i][1];
    if (m.sides[i] == BodySide::kLeft) {
      ++left;
      EXPECT_GT(m.vertices[i][0], -0.02f) << i;
    }
    if (m.sides[i] == BodySide::kRight) {
      ++right;
      EXPECT_LT(m.vertices[i][0], 0.02f) << i;
    }
  }
  EXPECT_NEAR(left, right, 0.01 * left);  // the mesh is symmetric; weight ties may tip a vertex or two
  for (int p = 0; p < kNumBodyParts; ++p) {
    ASSERT_GT(count[static_cast<BodyPart>(p)], 50) << BodyPartName(static_cast<BodyPart>(p));
    mean_y[static_cast<BodyPart>(p)] /= count[static_cast<BodyPart>(p)];
  }
  EXPECT_GT(mean_y[BodyPart::kHead], mean_y[BodyPart::kNeck]);
  EXPECT_GT(mean_y[BodyPart::kNeck], mean_y[BodyPart::kTorso]);
  EXPECT_GT(mean_y[BodyPart::kTorso], mean_y[BodyPart::kPelvis]);
  EXPECT_GT(mean_y[BodyPart::kPelvis], mean_y[BodyPart::kUpperLeg]);
  EXPECT_GT(mean_y[BodyPart::kUpperLeg], mean_y[BodyPart::kLowerLeg]);
  EXPECT_GT(mean_y[BodyPart::kLowerLeg], mean_y[BodyPart::kFoot]);
  EXPECT_GT(mean_y[BodyPart::kUpperArm], mean_y[BodyPart::kLowerArm]);
  EXPECT_GT(mean_y[BodyPart::kLowerArm], mean_y[BodyPart::kHand]);
}

TEST(BodyModelTest, BodyCoordinatesPointFrontAndUp) {
  const PosedMesh m = Model().Pose(BodyShape{}, BodyPose{});
  int front_ok = 0, front_total = 0;
  for (std::size_t i = 0; i < m.vertices.size(); ++i) {
    const auto& c = m.body_coords[i];
    ASSERT_GE(c[0], 0.f);
    ASSERT_LE(c[0], 1.f);
    ASSERT_GE(c[1], -3.1416f);
    ASSERT_LE(c[1], 3.1416f);
    if (m.parts[i] == BodyPart::kTorso && std::abs(m.vertices[i][0]) < 0.05f) {
      ++front_total;
      // Near the midline the chest (front, z > 0) has angle ~0, the back ~pi.
      front_ok += (m.vertices[i][2] > 0) == (std::abs(c[1]) < 1.5708f);
    }
  }
  EXPECT_GT(front_ok, 0.97 * front_total);
  // The coordinate of a vertex is fixed for the model: another shape and pose give the same values.
  BodyShape other;
  other.gender = 1.f, other.height = 0.f;
  const PosedMesh o = Model().Pose(other, Walk(0.4f));
  EXPECT_EQ(o.body_coords, m.body_coords);
}

TEST(BodyModelTest, NormalsAreUnitAndPointOutwards) {
  const PosedMesh m = Model().Pose(BodyShape{}, BodyPose{});
  int outward = 0, total = 0;
  for (std::size_t i = 0; i < m.vertices.size(); ++i) {
    const auto& n = m.normals[i];
    ASSERT_NEAR(n[0] * n[0] + n[1] * n[1] + n[2] * n[2], 1.f, 1e-4f) << i;
    if (m.parts[i] == BodyPart::kTorso) {
      ++total;
      // Outwards from the vertical axis through the torso.
      outward += n[0] * m.vertices[i][0] + n[2] * (m.vertices[i][2] - 0.0f) > 0.f;
    }
  }
  EXPECT_GT(outward, 0.9 * total);
}

TEST(BodyModelTest, RejectsBadInput) {
  BodyShape s;
  s.muscle = 1.5f;
  try {
    Model().Pose(s, BodyPose{});
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("muscle"));
  }
  s = BodyShape{};
  s.african = s.asian = s.caucasian = 0.f;
  EXPECT_THROW(Model().Pose(s, BodyPose{}), std::runtime_error);
  const unsigned char junk[16] = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'a', 's', 's', 'e', 't'};
  try {
    BodyModel::LoadFromBytes(junk, sizeof(junk), "junk.bin");
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("junk.bin"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("magic"));
  }
  const unsigned char truncated[12] = {'G', 'C', 'L', 'B', 'O', 'D', 'Y', '1', 1, 0, 0, 0};
  EXPECT_THROW(BodyModel::LoadFromBytes(truncated, sizeof(truncated), "t.bin"), std::runtime_error);
  EXPECT_THROW(BodyModel::LoadFromFile("/nonexistent/body.bin"), std::runtime_error);
}

}  // namespace
}  // namespace gcl::data

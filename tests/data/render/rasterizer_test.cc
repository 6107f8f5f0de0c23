#include "data/render/rasterizer.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "data/body/body_model.h"

namespace gcl::data {
namespace {

// A camera at (0, 0, d) looking down -z at the origin: a point (x, y, 0) lands on pixel
// (cx + f x / d, cy - f y / d) with f = (H/2) / tan(fov/2).
Camera FlatCamera(cv::Size size) {
  Camera cam;
  cam.image_size = size;
  cam.target = cv::Point3f(0, 0, 0);
  cam.distance = 10.f;
  cam.vertical_fov_degrees = 20.f;
  return cam;
}

double Focal(const Camera& cam, int supersample = 1) {
  return 0.5 * cam.image_size.height * supersample / std::tan(0.5 * cam.vertical_fov_degrees * M_PI / 180.0);
}

// Adds a triangle at depth plane z, given in pixel coordinates of `cam` (converted back to metres), facing +z.
void AddPixelTriangle(PosedMesh& mesh, const Camera& cam, cv::Point2d a, cv::Point2d b, cv::Point2d c, float z) {
  const double f = Focal(cam), cx = 0.5 * cam.image_size.width, cy = 0.5 * cam.image_size.height;
  const double d = cam.distance - z;  // distance from the camera to the plane
  const int base = static_cast<int>(mesh.vertices.size());
  for (const cv::Point2d& p : {a, b, c}) {
    mesh.vertices.push_back({static_cast<float>((p.x - cx) * d / f), static_cast<float>(-(p.y - cy) * d / f), z});
    mesh.normals.push_back({0.f, 0.f, 1.f});
  }
  // Counter-clockwise as seen from +z (the camera) means front facing.
  const double cross = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);  // y-down pixels
  if (cross < 0) mesh.triangles.push_back({base, base + 1, base + 2});
  else mesh.triangles.push_back({base, base + 2, base + 1});
}

bool NaiveInside(cv::Point2d p, cv::Point2d a, cv::Point2d b, cv::Point2d c) {
  auto edge = [](cv::Point2d u, cv::Point2d v, cv::Point2d q) {
    return (v.x - u.x) * (q.y - u.y) - (v.y - u.y) * (q.x - u.x);
  };
  const double e0 = edge(a, b, p), e1 = edge(b, c, p), e2 = edge(c, a, p);
  return (e0 >= 0 && e1 >= 0 && e2 >= 0) || (e0 <= 0 && e1 <= 0 && e2 <= 0);
}

TEST(RasterizerTest, TriangleCoversThePixelsWhoseCentresItContains) {
  const Camera cam = FlatCamera(cv::Size(64, 48));
  const cv::Point2d a(5.3, 4.1), b(57.7, 12.4), c(20.2, 43.9);
  PosedMesh mesh;
  AddPixelTriangle(mesh, cam, a, b, c, 0.f);
  const RenderOutput out = Render(mesh, std::vector<cv::Vec3f>(3, cv::Vec3f(1, 1, 1)), cam, Lighting{}, 1);
  int mismatches = 0, covered = 0;
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      const bool expect = NaiveInside({x + 0.5, y + 0.5}, a, b, c);
      const bool got = out.mask.at<uint8_t>(y, x) == 255;
      covered += expect;
      mismatches += expect != got;
      if (!got) EXPECT_EQ(out.mask.at<uint8_t>(y, x), 0);
    }
  EXPECT_GT(covered, 700);
  EXPECT_EQ(mismatches, 0);
}

TEST(RasterizerTest, SupersampledCoverageMatchesTheTriangleArea) {
  const Camera cam = FlatCamera(cv::Size(64, 48));
  const cv::Point2d a(5.3, 4.1), b(57.7, 12.4), c(20.2, 43.9);
  PosedMesh mesh;
  AddPixelTriangle(mesh, cam, a, b, c, 0.f);
  const RenderOutput out = Render(mesh, std::vector<cv::Vec3f>(3, cv::Vec3f(1, 1, 1)), cam, Lighting{}, 4);
  const double area = 0.5 * std::abs((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x));
  EXPECT_NEAR(cv::sum(out.mask)[0] / 255.0, area, 0.01 * area);
  int partial = 0;
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) partial += out.mask.at<uint8_t>(y, x) > 0 && out.mask.at<uint8_t>(y, x) < 255;
  EXPECT_GT(partial, 50);  // anti-aliased edges
}

TEST(RasterizerTest, NearerSurfaceWinsWhateverTheDrawOrder) {
  const Camera cam = FlatCamera(cv::Size(32, 32));
  for (bool near_first : {true, false}) {
    PosedMesh mesh;
    std::vector<cv::Vec3f> colors;
    const float depths[2] = {near_first ? 1.f : -1.f, near_first ? -1.f : 1.f};  // z = +1 is nearer
    for (float z : depths) {
      AddPixelTriangle(mesh, cam, {2, 2}, {30, 2}, {2, 30}, z);
      for (int k = 0; k < 3; ++k) colors.push_back(z > 0 ? cv::Vec3f(0, 0, 1) : cv::Vec3f(1, 0, 0));
    }
    const RenderOutput out = Render(mesh, colors, cam, Lighting{}, 1);
    const cv::Vec3b px = out.color.at<cv::Vec3b>(8, 8);
    EXPECT_EQ(px[0], 0) << near_first;  // blue channel: the far (blue) triangle is hidden
    EXPECT_GT(px[2], 100) << near_first;
    EXPECT_NEAR(out.depth.at<float>(8, 8), cam.distance - 1.f, 1e-4f);
    EXPECT_EQ(out.depth.at<float>(31, 31), 0.f);  // uncovered
  }
}

TEST(RasterizerTest, BackFacesAreCulled) {
  const Camera cam = FlatCamera(cv::Size(32, 32));
  PosedMesh mesh;
  AddPixelTriangle(mesh, cam, {2, 2}, {30, 2}, {2, 30}, 0.f);
  std::swap(mesh.triangles[0][1], mesh.triangles[0][2]);
  const RenderOutput out = Render(mesh, {cv::Vec3f(1, 1, 1), cv::Vec3f(1, 1, 1), cv::Vec3f(1, 1, 1)}, cam,
                                  Lighting{}, 1);
  EXPECT_EQ(cv::countNonZero(out.mask), 0);
}

TEST(RasterizerTest, LambertPlusAmbientShading) {
  const Camera cam = FlatCamera(cv::Size(32, 32));
  PosedMesh mesh;
  AddPixelTriangle(mesh, cam, {2, 2}, {30, 2}, {2, 30}, 0.f);
  const std::vector<cv::Vec3f> albedo(3, cv::Vec3f(0.2f, 0.5f, 0.8f));
  Lighting head_on;
  head_on.direction = {0, 0, 1};
  head_on.ambient = 0.3f;
  head_on.diffuse = 0.5f;
  cv::Vec3b px = Render(mesh, albedo, cam, head_on, 1).color.at<cv::Vec3b>(8, 8);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(px[c], 255 * albedo[0][c] * 0.8f, 1.0) << c;
  Lighting grazing = head_on;
  grazing.direction = {1, 0, 0};  // perpendicular to the normal: ambient only
  px = Render(mesh, albedo, cam, grazing, 1).color.at<cv::Vec3b>(8, 8);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(px[c], 255 * albedo[0][c] * 0.3f, 1.0) << c;
}

TEST(RasterizerTest, CompositeBlendsByCoverage) {
  RenderOutput r;
  r.color = cv::Mat(1, 3, CV_8UC3, cv::Scalar(200, 100, 0));
  r.mask = (cv::Mat_<uint8_t>(1, 3) << 0, 255, 51);
  r.depth = cv::Mat::zeros(1, 3, CV_32F);
  const cv::Mat bg(1, 3, CV_8UC3, cv::Scalar(0, 0, 250));
  const cv::Mat out = CompositeOver(r, bg);
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 250));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 1), cv::Vec3b(200, 100, 0));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 2), cv::Vec3b(40, 20, 200));
  EXPECT_THROW(CompositeOver(r, cv::Mat(2, 3, CV_8UC3)), std::invalid_argument);
}

class StructureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new BodyModel(BodyModel::LoadDefault());
    stand_ = new PosedMesh(model_->Pose(BodyShape{}, BodyPose{}));
  }
  static BodyModel* model_;
  static PosedMesh* stand_;
};
BodyModel* StructureTest::model_ = nullptr;
PosedMesh* StructureTest::stand_ = nullptr;

cv::Mat Silhouette(const cv::Mat& structure) { return structure < 250; }

double IoU(const cv::Mat& a, const cv::Mat& b) {
  return static_cast<double>(cv::countNonZero(a & b)) / cv::countNonZero(a | b);
}

TEST_F(StructureTest, GreyBodyOnWhiteFramedLikeACrop) {
  const Camera cam = FrameBody(*stand_, cv::Size(128, 256), 0.9f);
  const cv::Mat s = RenderStructure(*stand_, cam, 0.f);
  ASSERT_EQ(s.type(), CV_8UC1);
  ASSERT_EQ(s.size(), cv::Size(128, 256));
  EXPECT_EQ(s.at<uint8_t>(0, 0), 255);
  EXPECT_EQ(s.at<uint8_t>(255, 127), 255);
  // Light grey shading inside the body: neither black nor white.
  const uint8_t chest = s.at<uint8_t>(70, 64);
  EXPECT_GT(chest, 90);
  EXPECT_LT(chest, 240);
  // The body spans 90% of the height, centred.
  cv::Rect box = cv::boundingRect(Silhouette(s));
  EXPECT_NEAR(box.height, 0.9 * 256, 2);
  EXPECT_NEAR(box.y + 0.5 * box.height, 128, 1.5);
  EXPECT_NEAR(box.x + 0.5 * box.width, 64, 3);
}

TEST_F(StructureTest, HalfTurnIsTheMirroredFrontView) {
  // Seen from behind, a standing body's silhouette is the mirror image of its front silhouette (exact for an
  // orthographic camera, near-exact at 8 m); the grey levels differ only where front and back shapes do.
  Camera cam = FrameBody(*stand_, cv::Size(128, 256), 0.9f, /*pitch_degrees=*/0.f, /*distance=*/30.f);
  Lighting frontal;
  frontal.direction = {0, 0, 1};
  const cv::Mat front = RenderStructure(*stand_, cam, 0.f, cv::Size(), frontal);
  const cv::Mat back = RenderStructure(*stand_, cam, 180.f, cv::Size(), frontal);
  cv::Mat mirrored;
  cv::flip(back, mirrored, 1);
  EXPECT_GT(IoU(Silhouette(front), Silhouette(mirrored)), 0.95);
  cv::Mat diff;
  cv::absdiff(front, mirrored, diff);
  EXPECT_LT(cv::mean(diff)[0], 6.0);
  // Not trivially so: a quarter turn changes the silhouette a lot.
  const cv::Mat side = RenderStructure(*stand_, cam, 90.f, cv::Size(), frontal);
  EXPECT_LT(IoU(Silhouette(front), Silhouette(side)), 0.7);
}

TEST_F(StructureTest, EightViewsKeepTheCameraFixed) {
  BodyPose walk;
  walk.kind = BodyPose::Kind::kWalk;
  walk.phase = 0.3f;
  const PosedMesh mesh = model_->Pose(BodyShape{}, walk);
  const Camera cam = FrameBody(mesh, cv::Size(128, 256));
  const std::vector<cv::Mat> views = StructureViews(mesh, cam, cv::Size(64, 128));
  ASSERT_EQ(views.size(), 8u);
  for (std::size_t i = 0; i < views.size(); ++i) {
    ASSERT_EQ(views[i].size(), cv::Size(64, 128));
    // The turn is about the vertical axis: the body keeps its vertical extent (up to perspective) in every view.
    const cv::Rect box = cv::boundingRect(Silhouette(views[i]));
    EXPECT_NEAR(box.height, 0.9 * 128, 5) << i;  // a stride 0.6 m deep changes the feet's scale by ~4% at 8 m
    EXPECT_EQ(cv::countNonZero(views[i] != RenderStructure(mesh, cam, 45.f * i, cv::Size(64, 128))), 0) << i;
  }
}

TEST_F(StructureTest, RenderingIsDeterministic) {
  const Camera cam = FrameBody(*stand_, cv::Size(128, 256));
  const std::vector<cv::Vec3f> colors(stand_->vertices.size(), cv::Vec3f(0.3f, 0.6f, 0.9f));
  const RenderOutput a = Render(*stand_, colors, cam, Lighting{}, 2);
  const RenderOutput b = Render(*stand_, colors, cam, Lighting{}, 2);
  EXPECT_EQ(cv::countNonZero(a.mask != b.mask), 0);
  EXPECT_EQ(cv::norm(a.color, b.color, cv::NORM_INF), 0);
  EXPECT_EQ(cv::norm(a.depth, b.depth, cv::NORM_INF), 0);
  // The depth of the covered pixels lies around the camera distance.
  double lo, hi;
  cv::minMaxLoc(a.depth, &lo, &hi, nullptr, nullptr, a.mask == 255);
  EXPECT_GT(lo, cam.distance - 0.5);
  EXPECT_LT(hi, cam.distance + 0.5);
}

TEST_F(StructureTest, RejectsBadInput) {
  const Camera cam = FrameBody(*stand_, cv::Size(128, 256));
  EXPECT_THROW(Render(*stand_, std::vector<cv::Vec3f>(3), cam, Lighting{}, 2), std::invalid_argument);
  const std::vector<cv::Vec3f> colors(stand_->vertices.size());
  EXPECT_THROW(Render(*stand_, colors, cam, Lighting{}, 0), std::invalid_argument);
  Camera bad = cam;
  bad.image_size = cv::Size(0, 10);
  EXPECT_THROW(Render(*stand_, colors, bad, Lighting{}, 1), std::invalid_argument);
  bad.image_size = cv::Size(4096, 8192);
  EXPECT_THROW(Render(*stand_, colors, bad, Lighting{}, 8), std::invalid_argument);
  PosedMesh broken = *stand_;
  broken.triangles[5][1] = 1 << 30;
  EXPECT_THROW(RenderStructure(broken, cam, 0.f), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::data

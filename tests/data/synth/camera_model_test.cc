#include "data/synth/camera_model.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "data/synth/background.h"

namespace gcl::data {
namespace {

TEST(CameraModelTest, PreferredYawsAreSpreadAroundTheCircle) {
  const WorldSpec spec = WorldSpecForPreset("quick");
  Rng rng(4);
  const auto cams = SampleCameras(spec, rng);
  ASSERT_EQ(static_cast<int>(cams.size()), spec.num_cameras);
  std::vector<float> yaws;
  for (size_t i = 0; i < cams.size(); ++i) {
    EXPECT_EQ(cams[i].camera, static_cast<int>(i) + 1);
    yaws.push_back(cams[i].preferred_yaw_deg);
  }
  std::sort(yaws.begin(), yaws.end());
  // Evenly spaced 60 degrees apart, each jittered by at most 10: neighbours stay >= 40 degrees apart.
  for (size_t i = 0; i + 1 < yaws.size(); ++i) EXPECT_GE(yaws[i + 1] - yaws[i], 40.f - 1e-3f);
  EXPECT_GE(yaws.front() + 360.f - yaws.back(), 40.f - 1e-3f);
}

TEST(CameraModelTest, IdentityResponseKeepsColours) {
  cv::Mat scene(4, 4, CV_32FC3, cv::Scalar(0.2, 0.5, 0.8));
  const cv::Mat out = ApplyColourResponse(scene, ColourResponse{});
  EXPECT_LT(cv::norm(out, scene, cv::NORM_INF), 1e-6);
}

TEST(CameraModelTest, ZeroStrengthGivesNeutralCameras) {
  WorldSpec spec = WorldSpecForPreset("quick");
  spec.camera_colour_strength = 0.f;
  Rng rng(8);
  for (const CameraSpec& cam : SampleCameras(spec, rng)) {
    cv::Mat scene(2, 2, CV_32FC3, cv::Scalar(0.3, 0.6, 0.1));
    EXPECT_LT(cv::norm(ApplyColourResponse(scene, cam.response), scene, cv::NORM_INF), 1e-5);
  }
}

TEST(CameraModelTest, CamerasShiftTheSameColourDifferently) {
  const WorldSpec spec = WorldSpecForPreset("hard");
  Rng rng(8);
  const auto cams = SampleCameras(spec, rng);
  const cv::Mat grey(1, 1, CV_32FC3, cv::Scalar(0.5, 0.5, 0.5));
  double max_difference = 0.0;
  for (size_t a = 0; a < cams.size(); ++a) {
    for (size_t b = a + 1; b < cams.size(); ++b) {
      max_difference = std::max(max_difference, cv::norm(ApplyColourResponse(grey, cams[a].response),
                                                         ApplyColourResponse(grey, cams[b].response)));
    }
  }
  EXPECT_GT(max_difference, 0.1);
  EXPECT_THROW(ApplyColourResponse(cv::Mat(2, 2, CV_8UC3), ColourResponse{}), std::invalid_argument);
}

TEST(BackgroundTest, PlatesAreDeterministicAndInRange) {
  for (int style = 0; style < 6; ++style) {
    const auto s = static_cast<BackgroundStyle>(style);
    const cv::Mat a = MakeBackgroundPlate(s, {320, 80}, 0.6f, 99);
    const cv::Mat b = MakeBackgroundPlate(s, {320, 80}, 0.6f, 99);
    const cv::Mat c = MakeBackgroundPlate(s, {320, 80}, 0.6f, 100);
    ASSERT_EQ(a.type(), CV_32FC3) << BackgroundStyleName(s);
    EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0) << BackgroundStyleName(s);
    EXPECT_GT(cv::norm(a, c, cv::NORM_L1), 0.0) << BackgroundStyleName(s);
    double lo, hi;
    cv::minMaxLoc(a.reshape(1), &lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0);
  }
}

}  // namespace
}  // namespace gcl::data

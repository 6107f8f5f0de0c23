#include "data/synth/degrade.h"

#include <stdexcept>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

namespace gcl::data {
namespace {

cv::Mat Checkerboard() {
  cv::Mat image(64, 32, CV_32FC3);
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      image.at<cv::Vec3f>(y, x) = ((x / 2 + y / 2) % 2) ? cv::Vec3f(0.9f, 0.8f, 0.7f) : cv::Vec3f(0.1f, 0.2f, 0.3f);
    }
  }
  return image;
}

TEST(DegradeTest, IdentityDegradationKeepsTheImage) {
  Rng rng(1);
  const cv::Mat image = Checkerboard();
  EXPECT_EQ(cv::norm(DegradeImage(image, Degradation{}, rng), image, cv::NORM_INF), 0.0);
}

TEST(DegradeTest, LowResolutionAndBlurRemoveFineDetail) {
  Rng rng(1);
  const cv::Mat image = Checkerboard();
  const cv::Mat low = DegradeImage(image, {0.25f, 0.f, 0.f}, rng);
  const cv::Mat blurred = DegradeImage(image, {1.f, 1.5f, 0.f}, rng);
  cv::Scalar mean, stddev, low_stddev, blur_stddev;
  cv::meanStdDev(image, mean, stddev);
  cv::meanStdDev(low, mean, low_stddev);
  cv::meanStdDev(blurred, mean, blur_stddev);
  EXPECT_LT(low_stddev[0], 0.5 * stddev[0]);
  EXPECT_LT(blur_stddev[0], 0.5 * stddev[0]);
}

TEST(DegradeTest, NoiseIsDeterministicPerRngAndClamped) {
  const cv::Mat image = Checkerboard();
  Rng a(5), b(5);
  const cv::Mat na = DegradeImage(image, {1.f, 0.f, 0.1f}, a);
  const cv::Mat nb = DegradeImage(image, {1.f, 0.f, 0.1f}, b);
  EXPECT_EQ(cv::norm(na, nb, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(na, image, cv::NORM_L1), 0.0);
  double lo, hi;
  cv::minMaxLoc(na.reshape(1), &lo, &hi);
  EXPECT_GE(lo, 0.0);
  EXPECT_LE(hi, 1.0);
}

TEST(DegradeTest, OccludersCoverPartOfTheCrop) {
  Rng rng(3);
  for (int i = 0; i < 30; ++i) {
    cv::Mat image(128, 64, CV_32FC3, cv::Scalar(0.5, 0.5, 0.5));
    const Occlusion occlusion = DrawOccluder(image, rng);
    EXPECT_NE(occlusion.kind, OccluderKind::kNone);
    EXPECT_GT(occlusion.covered_fraction, 0.f);
    EXPECT_LT(occlusion.covered_fraction, 0.7f) << OccluderKindName(occlusion.kind);
  }
}

TEST(DegradeTest, JpegRoundTripsApproximately) {
  const cv::Mat image(64, 32, CV_32FC3, cv::Scalar(0.2, 0.4, 0.6));
  const std::vector<uchar> bytes = EncodeJpeg(image, 90);
  const cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_COLOR);
  ASSERT_EQ(decoded.size(), image.size());
  const cv::Vec3b pixel = decoded.at<cv::Vec3b>(10, 10);  // BGR on disk
  EXPECT_NEAR(pixel[0], 0.6 * 255, 3);
  EXPECT_NEAR(pixel[2], 0.2 * 255, 3);
  EXPECT_THROW(EncodeJpeg(image, 0), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::data

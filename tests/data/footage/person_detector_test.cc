#include "data/footage/person_detector.h"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace gcl::data {
namespace {

Detection Window(double x, double y, double w, double h, double score) {
  Detection d;
  d.box = cv::Rect2d(x, y, w, h);
  d.score = score;
  return d;
}

TEST(PersonDetectorTest, IntersectionOverUnion) {
  EXPECT_DOUBLE_EQ(IntersectionOverUnion({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(IntersectionOverUnion({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(IntersectionOverUnion({0, 0, 10, 10}, {20, 0, 10, 10}), 0.0);
  EXPECT_DOUBLE_EQ(IntersectionOverUnion({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0);
}

TEST(PersonDetectorTest, MergeWindowsGroupsNeighboursAndDropsLoneWindows) {
  std::vector<Detection> windows = {
      Window(100, 100, 64, 128, 2.0),  // best of a group of three
      Window(104, 100, 64, 128, 1.0),
      Window(100, 108, 64, 128, 1.0),
      Window(400, 100, 64, 128, 3.0),  // alone: dropped at min_support 3, even with the best score
  };
  const std::vector<Detection> merged = MergeWindows(windows, /*merge_iou=*/0.3, /*min_support=*/3);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].support, 3);
  EXPECT_DOUBLE_EQ(merged[0].score, 2.0);
  // Score-weighted mean: x = (2*100 + 104 + 100) / 4, y = (2*100 + 100 + 108) / 4.
  EXPECT_DOUBLE_EQ(merged[0].box.x, 101.0);
  EXPECT_DOUBLE_EQ(merged[0].box.y, 102.0);
  EXPECT_DOUBLE_EQ(merged[0].box.width, 64.0);

  const std::vector<Detection> all = MergeWindows(windows, 0.3, 1);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_DOUBLE_EQ(all[0].score, 3.0);  // best first
  EXPECT_EQ(all[0].support, 1);
}

TEST(PersonDetectorTest, MergeWindowsDoesNotDependOnInputOrder) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> pos(0, 300), score(0.1, 2.0);
  std::vector<Detection> windows;
  for (int i = 0; i < 200; ++i) windows.push_back(Window(pos(rng), pos(rng), 32, 64, score(rng)));
  windows.push_back(windows[5]);  // an exact tie
  const std::vector<Detection> reference = MergeWindows(windows, 0.3, 2);
  ASSERT_FALSE(reference.empty());
  for (int trial = 0; trial < 5; ++trial) {
    std::shuffle(windows.begin(), windows.end(), rng);
    const std::vector<Detection> merged = MergeWindows(windows, 0.3, 2);
    ASSERT_EQ(merged.size(), reference.size());
    for (size_t i = 0; i < merged.size(); ++i) {
      EXPECT_EQ(merged[i].box, reference[i].box);
      EXPECT_EQ(merged[i].support, reference[i].support);
    }
  }
}

TEST(PersonDetectorTest, HogFindsNobodyInAnEmptyFrameAndRejectsBadFrames) {
  const HogPersonDetector detector;
  EXPECT_TRUE(detector.Detect(cv::Mat(240, 320, CV_8UC3, cv::Scalar(128, 128, 128))).empty());
  EXPECT_THROW(detector.Detect(cv::Mat()), std::invalid_argument);
  EXPECT_THROW(detector.Detect(cv::Mat(240, 320, CV_8UC1, cv::Scalar(0))), std::invalid_argument);
}

TEST(PersonDetectorTest, RejectsBadOptions) {
  HogOptions options;
  options.window_stride = 4;  // finer than a HOG cell
  EXPECT_THROW(HogPersonDetector{options}, std::invalid_argument);
  options = HogOptions{};
  options.scale_step = 1.0;
  EXPECT_THROW(ValidateHogOptions(options), std::invalid_argument);
  options = HogOptions{};
  options.min_support = 0;
  EXPECT_THROW(ValidateHogOptions(options), std::invalid_argument);
  EXPECT_NE(HogOptionsToText(HogOptions{}).find("upscale 1.5"), std::string::npos);
}

}  // namespace
}  // namespace gcl::data

// The real-footage split as the project makes it: HOG, the tracker and the person labels on Debian opencv-doc's
// vtest.avi (a few minutes of HOG on 2 cores, hence size "large"). The video is a package ./bazelw installs; a
// machine without it fails here with a message naming the package instead of passing without a check.
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/videoio.hpp>

#include "data/datasets/reid_dataset.h"
#include "data/footage/person_detector.h"
#include "data/footage/video_split.h"

namespace gcl::data {
namespace {
namespace fs = std::filesystem;

bool HaveVideo() { return fs::is_regular_file(kOpencvDocVideo); }

constexpr char kMissing[] =
    " is missing: it comes with Debian's opencv-doc package (sudo apt-get install opencv-doc; ./bazelw installs "
    "it with the other build dependencies)";

TEST(VtestSplitTest, HogFindsThePeopleOfAFrame) {
  ASSERT_TRUE(HaveVideo()) << kOpencvDocVideo << kMissing;
  cv::VideoCapture capture(kOpencvDocVideo);
  ASSERT_TRUE(capture.isOpened());
  cv::Mat frame;
  for (int i = 0; i <= 200; ++i) ASSERT_TRUE(capture.read(frame)) << "frame " << i;
  // Frame 200 shows eight people walking; the detector finds most of them at the default settings.
  const std::vector<Detection> people = HogPersonDetector().Detect(frame);
  EXPECT_GE(people.size(), 4u);
  EXPECT_LE(people.size(), 12u);
  for (const Detection& d : people) {
    EXPECT_GT(d.box.height, 60.0);
    EXPECT_LT(d.box.height, 200.0);
    EXPECT_NEAR(d.box.width * 2, d.box.height, 2.0);  // the window shape, up to rounding per scale
  }
}

TEST(VtestSplitTest, TheDefaultSplitHasTheLabelledPeopleAndLoads) {
  ASSERT_TRUE(HaveVideo()) << kOpencvDocVideo << kMissing;
  const fs::path cache = fs::path(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") / "vtest_cache";
  fs::remove_all(cache);
  size_t calls = 0;
  const std::string split =
      EnsureVideoSplit(kOpencvDocVideo, cache.string(), [&](const std::string&, size_t, size_t) { ++calls; });
  EXPECT_GT(calls, 795u);
  const VideoSplitSummary s = ReadVideoSplitSummary(split);
  EXPECT_EQ(s.frames, 795);
  // docs/real_footage.md: ten people, 22 walks; every kept track carries a label by eye. A change to the
  // detector or tracker that makes new tracks shows here as unlabelled tracks: look at the contact sheet and
  // extend VtestPeople() (data/footage/people_labels.cc).
  EXPECT_EQ(s.unlabelled_tracks, 0) << "tracks without a person label; see " << split << "/contact_sheet.png";
  EXPECT_EQ(s.identities, 10);
  EXPECT_GE(s.passes, 18);
  EXPECT_LE(s.passes, 26);
  EXPECT_EQ(s.query_images, 2 * s.passes);
  EXPECT_EQ(s.gallery_images, 4 * s.passes);

  const ReidDataset d = LoadMarket1501(split);
  EXPECT_EQ(static_cast<int>(d.query.records.size()), s.query_images);
  EXPECT_EQ(static_cast<int>(d.gallery.records.size()), s.gallery_images);
  EXPECT_EQ(d.query.num_pids, 10);
  EXPECT_EQ(d.gallery.num_pids, 10);
  std::set<int> gallery_pids;
  for (const ImageRecord& r : d.gallery.records) gallery_pids.insert(r.pid);
  for (const ImageRecord& r : d.query.records) {
    EXPECT_EQ(r.camid, 0);
    EXPECT_TRUE(gallery_pids.count(r.pid)) << r.path << " has no match in the gallery";
  }

  // The second call reuses the folder: no detection, same path.
  calls = 0;
  EXPECT_EQ(EnsureVideoSplit(kOpencvDocVideo, cache.string(), [&](const std::string&, size_t, size_t) { ++calls; }),
            split);
  EXPECT_EQ(calls, 0u);
  EXPECT_EQ(fs::path(split).filename().string().rfind("vtest_split_v1_", 0), 0u);
}

}  // namespace
}  // namespace gcl::data

// The split logic on a synthetic video: coloured figures walking across a grey frame, found by a colour-blob
// detector instead of HOG, so tracking, view selection and the written layout are checked exactly.
#include "data/footage/video_split.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "data/datasets/reid_dataset.h"
#include "data/synth/market_naming.h"

namespace gcl::data {
namespace {
namespace fs = std::filesystem;

constexpr int kFrames = 70;
constexpr int kPersonHeight = 60;
constexpr int kPersonWidth = 20;

struct Figure {
  cv::Scalar bgr;
  int first, last;
  double x0, dx, y;  // centre x = x0 + dx * (frame - first)
  double XAt(int frame) const { return x0 + dx * (frame - first); }
};

// Red walks right along the top from frame 0, blue walks left lower down from frame 10, green stands still
// (a static object), yellow is seen for 8 frames only.
const std::vector<Figure>& Figures() {
  static const std::vector<Figure> figures = {
      {cv::Scalar(30, 30, 220), 0, 59, 20, 4.4, 50},
      {cv::Scalar(220, 60, 30), 10, 69, 290, -4.4, 130},
      {cv::Scalar(40, 200, 40), 0, 69, 160, 0.0, 205},
      {cv::Scalar(30, 220, 230), 30, 37, 40, 4.0, 205},
  };
  return figures;
}

std::vector<cv::Mat> MakeFrames() {
  std::vector<cv::Mat> frames;
  for (int f = 0; f < kFrames; ++f) {
    cv::Mat frame(240, 320, CV_8UC3, cv::Scalar(128, 128, 128));
    for (const Figure& fig : Figures()) {
      if (f < fig.first || f > fig.last) continue;
      const cv::Rect body(static_cast<int>(fig.XAt(f) - kPersonWidth / 2.0),
                          static_cast<int>(fig.y - kPersonHeight / 2.0), kPersonWidth, kPersonHeight);
      cv::rectangle(frame, body, fig.bgr, cv::FILLED);
    }
    frames.push_back(frame);
  }
  return frames;
}

// Saturated blobs, each turned into a detector-shaped window: the person is the central 3/4 of the window's
// height (as in HOG's 64x128 window), width = height / 2.
std::vector<Detection> BlobDetector(const cv::Mat& frame) {
  cv::Mat hsv, mask, labels, stats, centroids;
  cv::cvtColor(frame, hsv, cv::COLOR_BGR2HSV);
  cv::inRange(hsv, cv::Scalar(0, 120, 60), cv::Scalar(180, 255, 255), mask);
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids);
  std::vector<Detection> found;
  for (int i = 1; i < n; ++i) {
    if (stats.at<int>(i, cv::CC_STAT_AREA) < 100) continue;
    const double h = stats.at<int>(i, cv::CC_STAT_HEIGHT) * 4.0 / 3.0;
    const double cx = stats.at<int>(i, cv::CC_STAT_LEFT) + stats.at<int>(i, cv::CC_STAT_WIDTH) / 2.0;
    const double cy = stats.at<int>(i, cv::CC_STAT_TOP) + stats.at<int>(i, cv::CC_STAT_HEIGHT) / 2.0;
    Detection d;
    d.box = cv::Rect2d(cx - h / 4, cy - h / 2, h / 2, h);
    d.score = 1.0;
    found.push_back(d);
  }
  return found;
}

ViewOptions TestViews() {
  ViewOptions views;
  views.min_track_points = 20;
  views.queries_per_track = 2;
  views.middle_per_track = 2;
  views.gallery_per_track = 3;
  return views;
}

std::string TempDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(tmp != nullptr ? tmp : "/tmp") / name;
  fs::remove_all(dir);
  return dir.string();
}

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

VideoSplitSummary Write(const FrameSource& frames, const std::string& out, const ViewOptions& views = TestViews(),
                        const std::vector<PersonAnchor>& people = {}, const VideoSplitProgress& progress = nullptr) {
  return WriteVideoSplit(frames, BlobDetector, TrackerOptions{}, views, people, out, "test header\n", progress);
}

TEST(VideoSplitTest, WalkersBecomeIdentitiesWithTwoViewsInMarketLayout) {
  const std::string out = TempDir("walkers");
  std::vector<std::pair<std::string, size_t>> progress;
  const VideoSplitSummary s = Write(InMemoryFrames(MakeFrames()), out, TestViews(), {},
                                    [&](const std::string& stage, size_t done, size_t total) {
                                      progress.push_back({stage, done});
                                      EXPECT_EQ(total, static_cast<size_t>(kFrames));
                                    });
  EXPECT_EQ(s.frames, kFrames);
  EXPECT_EQ(s.tracks, 4);
  EXPECT_EQ(s.short_tracks, 1);   // yellow
  EXPECT_EQ(s.static_tracks, 1);  // green
  EXPECT_EQ(s.identities, 2);
  EXPECT_EQ(s.passes, 2);
  EXPECT_EQ(s.query_images, 4);
  EXPECT_EQ(s.gallery_images, 6);
  EXPECT_EQ(s.train_images, 4);

  // Red (pid 1, frames 0-59): thirds [0, 20), [20, 40), [40, 60), crops at the middles of equal stretches.
  // Blue (pid 2, frames 10-69) likewise, shifted by 10.
  EXPECT_EQ(Names(fs::path(out) / "query"),
            (std::set<std::string>{"0001_c1s1_000005_00.jpg", "0001_c1s1_000015_00.jpg", "0002_c1s1_000015_00.jpg",
                                   "0002_c1s1_000025_00.jpg"}));
  EXPECT_EQ(Names(fs::path(out) / "bounding_box_train"),
            (std::set<std::string>{"0001_c3s1_000025_00.jpg", "0001_c3s1_000035_00.jpg", "0002_c3s1_000035_00.jpg",
                                   "0002_c3s1_000045_00.jpg"}));
  EXPECT_EQ(Names(fs::path(out) / "bounding_box_test"),
            (std::set<std::string>{"0001_c2s1_000043_00.jpg", "0001_c2s1_000050_00.jpg", "0001_c2s1_000056_00.jpg",
                                   "0002_c2s1_000053_00.jpg", "0002_c2s1_000060_00.jpg",
                                   "0002_c2s1_000066_00.jpg"}));
  EXPECT_EQ(Names(out), (std::set<std::string>{"VIDEO_SPLIT", "bounding_box_test", "bounding_box_train",
                                               "contact_sheet.png", "query", "tracks.csv"}));
  // No temporary folder is left beside the output.
  for (const std::string& name : Names(fs::path(out).parent_path())) {
    EXPECT_EQ(name.find(".walkers.tmp"), std::string::npos) << name;
  }

  // Crops: 64x128, the person centred, its colour in the middle and background at the sides.
  for (const std::string& name : Names(fs::path(out) / "query")) {
    const cv::Mat crop = cv::imread((fs::path(out) / "query" / name).string());
    ASSERT_EQ(crop.size(), cv::Size(64, 128)) << name;
    const cv::Vec3b centre = crop.at<cv::Vec3b>(64, 32), side = crop.at<cv::Vec3b>(64, 2);
    const cv::Scalar expected = Figures()[ParseMarketName(name).pid - 1].bgr;
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(centre[c], expected[c], 30) << name;
      EXPECT_NEAR(side[c], 128, 30) << name;
    }
    // The person's 60 pixels fill 6/7 of the crop's height (crop = 7/8 of a window 4/3 the person).
    cv::Mat column;
    cv::cvtColor(crop.col(32), column, cv::COLOR_BGR2HSV);
    int saturated = 0;
    for (int y = 0; y < 128; ++y) saturated += column.at<cv::Vec3b>(y, 0)[1] > 120;
    EXPECT_NEAR(saturated, 128 * 6 / 7, 3) << name;
  }

  // The loader the project uses reads it: query camera 0 vs gallery camera 1, pids kept.
  const ReidDataset d = LoadMarket1501(out);
  EXPECT_EQ(d.query.records.size(), 4u);
  EXPECT_EQ(d.gallery.records.size(), 6u);
  EXPECT_EQ(d.train.records.size(), 4u);
  EXPECT_EQ(d.query.num_pids, 2);
  EXPECT_EQ(d.gallery.num_pids, 2);
  for (const ImageRecord& r : d.query.records) EXPECT_EQ(r.camid, 0);
  for (const ImageRecord& r : d.gallery.records) EXPECT_EQ(r.camid, 1);
  for (const ImageRecord& r : d.train.records) EXPECT_EQ(r.camid, 2);

  // Counts come back from the stamp; tracks.csv lists every crop.
  const VideoSplitSummary back = ReadVideoSplitSummary(out);
  EXPECT_EQ(back.identities, 2);
  EXPECT_EQ(back.gallery_images, 6);
  EXPECT_EQ(back.static_tracks, 1);
  std::ifstream csv(fs::path(out) / "tracks.csv");
  std::string line;
  int lines = 0;
  while (std::getline(csv, line)) ++lines;
  EXPECT_EQ(lines, 1 + 14);
  EXPECT_EQ(ReadBytes(fs::path(out) / "VIDEO_SPLIT").rfind("test header\n", 0), 0u);
  const cv::Mat sheet = cv::imread((fs::path(out) / "contact_sheet.png").string());
  EXPECT_EQ(sheet.rows, 2 * (128 + 2));

  // Progress: every frame detected, then every frame cut, in order.
  ASSERT_EQ(progress.size(), 2u * kFrames);
  for (int i = 0; i < kFrames; ++i) {
    EXPECT_EQ(progress[i], std::make_pair(std::string("detecting"), static_cast<size_t>(i + 1)));
    EXPECT_EQ(progress[kFrames + i], std::make_pair(std::string("cutting"), static_cast<size_t>(i + 1)));
  }
}

TEST(VideoSplitTest, SameFramesSameBytesAndNoOverwrite) {
  const std::string a = TempDir("same_a"), b = TempDir("same_b");
  Write(InMemoryFrames(MakeFrames()), a);
  Write(InMemoryFrames(MakeFrames()), b);
  for (const char* folder : {"query", "bounding_box_test", "bounding_box_train"}) {
    const std::set<std::string> names = Names(fs::path(a) / folder);
    ASSERT_EQ(names, Names(fs::path(b) / folder));
    for (const std::string& name : names) {
      EXPECT_EQ(ReadBytes(fs::path(a) / folder / name), ReadBytes(fs::path(b) / folder / name)) << name;
    }
  }
  for (const char* file : {"tracks.csv", "contact_sheet.png", "VIDEO_SPLIT"}) {
    EXPECT_EQ(ReadBytes(fs::path(a) / file), ReadBytes(fs::path(b) / file)) << file;
  }
  EXPECT_THROW(Write(InMemoryFrames(MakeFrames()), a), std::runtime_error);
}

TEST(VideoSplitTest, ReadsAVideoFileAndEveryOtherFrame) {
  const std::string video = TempDir("walk.avi");
  {
    cv::VideoWriter writer(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(320, 240));
    ASSERT_TRUE(writer.isOpened()) << "OpenCV cannot write an MJPG .avi here";
    for (const cv::Mat& frame : MakeFrames()) writer.write(frame);
  }
  const FrameSource source = VideoFileFrames(video);
  EXPECT_EQ(source.frame_count_hint, kFrames);
  const std::string from_file = TempDir("from_file"), from_memory = TempDir("from_memory");
  Write(source, from_file);
  Write(InMemoryFrames(MakeFrames()), from_memory);
  for (const char* folder : {"query", "bounding_box_test"}) {
    EXPECT_EQ(Names(fs::path(from_file) / folder), Names(fs::path(from_memory) / folder)) << folder;
  }

  // Detecting on every other frame: the names keep the video's frame numbers, all even.
  ViewOptions views = TestViews();
  views.frame_step = 2;
  views.min_track_points = 10;
  const std::string stepped = TempDir("stepped");
  const VideoSplitSummary s = Write(source, stepped, views);
  EXPECT_EQ(s.frames, kFrames);
  EXPECT_EQ(s.identities, 2);
  for (const char* folder : {"query", "bounding_box_test", "bounding_box_train"}) {
    for (const std::string& name : Names(fs::path(stepped) / folder)) {
      EXPECT_EQ(ParseMarketName(name).frame % 2, 0) << name;
    }
  }

  EXPECT_EQ(DefaultVideoSplitOptions(video).people.size(), 0u);  // no labels known for this video
  try {
    VideoFileFrames("/nonexistent/street.avi");
    FAIL() << "a missing video was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/street.avi"), std::string::npos) << e.what();
  }
}

TEST(VideoSplitTest, PersonLabelsJoinWalksAndDropTracksOfTwoPeople) {
  const Figure& red = Figures()[0];
  const Figure& blue = Figures()[1];
  // Red and blue labelled as the same person: one identity, two passes (sequences 1 and 2).
  const std::vector<PersonAnchor> same = {{30, red.XAt(30), red.y, 5}, {40, blue.XAt(40), blue.y, 5}};
  const std::string joined = TempDir("joined");
  VideoSplitSummary s = Write(InMemoryFrames(MakeFrames()), joined, TestViews(), same);
  EXPECT_EQ(s.identities, 1);
  EXPECT_EQ(s.passes, 2);
  EXPECT_EQ(s.unlabelled_tracks, 0);
  EXPECT_EQ(Names(fs::path(joined) / "query"),
            (std::set<std::string>{"0001_c1s1_000005_00.jpg", "0001_c1s1_000015_00.jpg", "0001_c1s2_000015_00.jpg",
                                   "0001_c1s2_000025_00.jpg"}));
  const ReidDataset d = LoadMarket1501(joined);
  EXPECT_EQ(d.query.num_pids, 1);
  EXPECT_EQ(d.gallery.records.size(), 6u);

  // Anchors of two people on red's track: it is dropped; blue has no anchor and stays its own identity.
  const std::vector<PersonAnchor> conflict = {{5, red.XAt(5), red.y, 1}, {50, red.XAt(50), red.y, 2}};
  const std::string dropped = TempDir("dropped");
  s = Write(InMemoryFrames(MakeFrames()), dropped, TestViews(), conflict);
  EXPECT_EQ(s.not_one_person, 1);
  EXPECT_EQ(s.unlabelled_tracks, 1);
  EXPECT_EQ(s.identities, 1);
  EXPECT_EQ(Names(fs::path(dropped) / "query"),
            (std::set<std::string>{"0001_c1s1_000015_00.jpg", "0001_c1s1_000025_00.jpg"}));
}

TEST(VideoSplitTest, NoIdentityIsAnErrorAndLeavesNothing) {
  ViewOptions views = TestViews();
  views.min_track_points = 100;  // longer than any walk
  const std::string out = TempDir("nothing");
  try {
    Write(InMemoryFrames(MakeFrames()), out, views);
    FAIL() << "a split without identities was written";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no identity left"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST(VideoSplitTest, CropFramingAndPadding) {
  ViewOptions views;
  const cv::Rect2d crop = CropRect(cv::Rect2d(10, 20, 40, 80), views);
  EXPECT_DOUBLE_EQ(crop.height, 70.0);
  EXPECT_DOUBLE_EQ(crop.width, 35.0);
  EXPECT_DOUBLE_EQ(crop.x + crop.width / 2, 30.0);
  EXPECT_DOUBLE_EQ(crop.y + crop.height / 2, 60.0);
  // Half outside the frame: the edge column is replicated.
  cv::Mat frame(100, 100, CV_8UC3, cv::Scalar(0, 0, 0));
  frame.col(0).setTo(cv::Scalar(255, 255, 255));
  const cv::Mat cut = CutCrop(frame, cv::Rect2d(-20, 10, 40, 80), views);
  ASSERT_EQ(cut.size(), cv::Size(64, 128));
  EXPECT_EQ(cut.at<cv::Vec3b>(64, 5), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(cut.at<cv::Vec3b>(64, 60), cv::Vec3b(0, 0, 0));
  EXPECT_THROW(CutCrop(frame, cv::Rect2d(200, 10, 40, 80), views), std::invalid_argument);
}

TEST(VideoSplitTest, OverridesAndValidation) {
  VideoSplitOptions options;
  ApplyVideoSplitOverrides("hog.upscale=2,tracker.max_gap=3,tracker.split_on_ambiguity=0,views.max_frames=200",
                           options);
  EXPECT_DOUBLE_EQ(options.hog.upscale, 2.0);
  EXPECT_EQ(options.tracker.max_gap, 3);
  EXPECT_FALSE(options.tracker.split_on_ambiguity);
  EXPECT_EQ(options.views.max_frames, 200);
  EXPECT_THROW(ApplyVideoSplitOverrides("views.nope=1", options), std::runtime_error);
  EXPECT_THROW(ApplyVideoSplitOverrides("views.max_frames=abc", options), std::runtime_error);
  EXPECT_THROW(ApplyVideoSplitOverrides("tracker.split_on_ambiguity=2", options), std::runtime_error);
  EXPECT_THROW(ApplyVideoSplitOverrides("hog.upscale", options), std::runtime_error);
  ViewOptions views;
  views.view_fraction = 0.6;  // the two views would overlap
  EXPECT_THROW(ValidateViewOptions(views), std::invalid_argument);
  views = ViewOptions{};
  views.frame_step = 0;
  EXPECT_THROW(ValidateViewOptions(views), std::invalid_argument);
  // The stamp text holds every option and anchor.
  options.people = {{1, 2, 3, 4}};
  const std::string text = VideoSplitOptionsToText(options);
  EXPECT_NE(text.find("upscale 2"), std::string::npos);
  EXPECT_NE(text.find("max_gap 3"), std::string::npos);
  EXPECT_NE(text.find("people 1 anchors"), std::string::npos);
  EXPECT_NE(text.find("\n1 2 3 4\n"), std::string::npos);
}

}  // namespace
}  // namespace gcl::data

#include "data/footage/person_tracker.h"

#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace gcl::data {
namespace {

constexpr double kHeight = 80.0;

Detection At(double cx, double cy, double height = kHeight) {
  Detection d;
  d.box = cv::Rect2d(cx - height / 4, cy - height / 2, height / 2, height);
  d.score = 1.0;
  return d;
}

// A person's centre per frame; frames where `visible` is false have no detection.
struct Walker {
  std::function<cv::Point2d(int)> centre;
  int first = 0;
  int last = 0;
  std::function<bool(int)> visible = [](int) { return true; };
};

std::vector<std::vector<Detection>> Render(const std::vector<Walker>& walkers, int frames) {
  std::vector<std::vector<Detection>> out(frames);
  for (int f = 0; f < frames; ++f) {
    for (const Walker& w : walkers) {
      if (f < w.first || f > w.last || !w.visible(f)) continue;
      const cv::Point2d c = w.centre(f);
      out[f].push_back(At(c.x, c.y));
    }
  }
  return out;
}

cv::Point2d Centre(const cv::Rect2d& box) { return {box.x + box.width / 2, box.y + box.height / 2}; }

// The walker every point of `track` lies on (within a pixel), or -1 when the track mixes walkers.
int WalkerOf(const Track& track, const std::vector<Walker>& walkers) {
  int owner = -2;
  for (const TrackPoint& p : track.points) {
    int here = -1;
    for (size_t w = 0; w < walkers.size(); ++w) {
      if (p.frame >= walkers[w].first && p.frame <= walkers[w].last &&
          cv::norm(Centre(p.box) - walkers[w].centre(p.frame)) < 1.0) {
        here = static_cast<int>(w);
      }
    }
    if (here < 0 || (owner != -2 && here != owner)) return -1;
    owner = here;
  }
  return owner;
}

TEST(PersonTrackerTest, OneWalkerIsOneTrackWithEveryFrame) {
  const std::vector<Walker> walkers = {{[](int f) { return cv::Point2d(50 + 6.0 * f, 200); }, 0, 39}};
  const std::vector<Track> tracks = LinkDetections(Render(walkers, 40), TrackerOptions{});
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].id, 0);
  ASSERT_EQ(tracks[0].points.size(), 40u);
  for (int f = 0; f < 40; ++f) EXPECT_EQ(tracks[0].points[f].frame, f);
}

TEST(PersonTrackerTest, AShortGapIsBridgedALongOneIsNot) {
  TrackerOptions options;
  options.max_gap = 4;
  Walker walker{[](int f) { return cv::Point2d(50 + 6.0 * f, 200); }, 0, 39};
  walker.visible = [](int f) { return f < 10 || f > 13; };  // 4 frames missing
  std::vector<Track> tracks = LinkDetections(Render({walker}, 40), options);
  ASSERT_EQ(tracks.size(), 1u);
  EXPECT_EQ(tracks[0].points.size(), 36u);

  walker.visible = [](int f) { return f < 10 || f > 14; };  // 5 frames missing
  tracks = LinkDetections(Render({walker}, 40), options);
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].points.back().frame, 9);
  EXPECT_EQ(tracks[1].points.front().frame, 15);
}

TEST(PersonTrackerTest, PeopleWhoCrossAreNeverJoinedIntoOneTrack) {
  // Two people on the same line walking towards each other; they meet at frame 20.
  const std::vector<Walker> walkers = {{[](int f) { return cv::Point2d(100 + 5.0 * f, 200); }, 0, 40},
                                       {[](int f) { return cv::Point2d(300 - 5.0 * f, 203); }, 0, 40}};
  for (bool split : {true, false}) {
    TrackerOptions options;
    options.split_on_ambiguity = split;
    const std::vector<Track> tracks = LinkDetections(Render(walkers, 41), options);
    size_t points = 0;
    for (const Track& t : tracks) {
      EXPECT_GE(WalkerOf(t, walkers), 0) << "track " << t.id << " mixes the two people (split_on_ambiguity "
                                         << split << ")";
      points += t.points.size();
    }
    EXPECT_EQ(points, 82u);
    // Before and after the meeting each person is followed by one track for at least 15 frames.
    int long_tracks = 0;
    for (const Track& t : tracks) long_tracks += t.points.size() >= 15;
    EXPECT_GE(long_tracks, 2);
  }
}

TEST(PersonTrackerTest, AmbiguousMeetingEndsTheTracksInvolved) {
  // One track, then two detections equally close to its prediction: with split_on_ambiguity the track ends and
  // both detections start new tracks; without, the track takes one of them.
  std::vector<std::vector<Detection>> frames(6);
  for (int f = 0; f < 5; ++f) frames[f].push_back(At(100, 200));
  frames[5] = {At(100, 200 - 8), At(100, 200 + 8)};
  TrackerOptions options;
  std::vector<Track> tracks = LinkDetections(frames, options);
  ASSERT_EQ(tracks.size(), 3u);
  EXPECT_EQ(tracks[0].points.size(), 5u);
  EXPECT_EQ(tracks[1].points.front().frame, 5);
  EXPECT_EQ(tracks[2].points.front().frame, 5);

  options.split_on_ambiguity = false;
  tracks = LinkDetections(frames, options);
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].points.size(), 6u);
}

TEST(PersonTrackerTest, SizeAndDistanceGatesStartNewTracks) {
  std::vector<std::vector<Detection>> frames(4);
  frames[0] = {At(100, 200)};
  frames[1] = {At(100, 200, kHeight * 1.5)};  // same place, much taller: another (nearer) person
  frames[2] = {At(100 + 0.5 * kHeight, 200, kHeight * 1.5)};  // beyond 0.3 heights from the tall one
  frames[3] = {};
  const std::vector<Track> tracks = LinkDetections(frames, TrackerOptions{});
  ASSERT_EQ(tracks.size(), 3u);
  for (const Track& t : tracks) EXPECT_EQ(t.points.size(), 1u);
}

TEST(PersonTrackerTest, SameInputSameTracks) {
  const std::vector<Walker> walkers = {{[](int f) { return cv::Point2d(100 + 5.0 * f, 200); }, 0, 40},
                                       {[](int f) { return cv::Point2d(300 - 5.0 * f, 203); }, 3, 40},
                                       {[](int f) { return cv::Point2d(400, 100 + 2.0 * f); }, 10, 30}};
  const auto detections = Render(walkers, 41);
  const std::vector<Track> a = LinkDetections(detections, TrackerOptions{});
  const std::vector<Track> b = LinkDetections(detections, TrackerOptions{});
  ASSERT_EQ(a.size(), b.size());
  for (size_t t = 0; t < a.size(); ++t) {
    EXPECT_EQ(a[t].id, static_cast<int>(t));
    ASSERT_EQ(a[t].points.size(), b[t].points.size());
    for (size_t p = 0; p < a[t].points.size(); ++p) {
      EXPECT_EQ(a[t].points[p].frame, b[t].points[p].frame);
      EXPECT_EQ(a[t].points[p].box, b[t].points[p].box);
    }
  }
}

TEST(PersonTrackerTest, RejectsBadOptions) {
  TrackerOptions options;
  options.max_height_ratio = 0.9;
  EXPECT_THROW(LinkDetections({}, options), std::invalid_argument);
  options = TrackerOptions{};
  options.max_gap = -1;
  EXPECT_THROW(ValidateTrackerOptions(options), std::invalid_argument);
  options = TrackerOptions{};
  options.velocity_frames = 0;
  EXPECT_THROW(ValidateTrackerOptions(options), std::invalid_argument);
  EXPECT_TRUE(LinkDetections({}, TrackerOptions{}).empty());
}

}  // namespace
}  // namespace gcl::data

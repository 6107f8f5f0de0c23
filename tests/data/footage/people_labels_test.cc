#include "data/footage/people_labels.h"

#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace gcl::data {
namespace {

// A track standing at (x, y) (box centre) from `first` to `last`, 40x80 boxes.
Track Standing(int id, double x, double y, int first, int last, int step = 1) {
  Track t;
  t.id = id;
  for (int f = first; f <= last; f += step) t.points.push_back({f, cv::Rect2d(x - 20, y - 40, 40, 80), 1.0});
  return t;
}

TEST(PeopleLabelsTest, AnchorsNameTheTrackWhoseBoxHoldsThem) {
  const std::vector<Track> tracks = {Standing(0, 100, 100, 0, 50), Standing(1, 300, 100, 0, 50),
                                     Standing(2, 500, 100, 0, 50)};
  const std::vector<PersonAnchor> anchors = {
      {10, 105, 90, 4},   // inside track 0's box
      {40, 95, 120, 4},   // track 0 again, same person
      {20, 310, 70, 7},   // track 1
      {60, 310, 70, 9},   // after every track ended: ignored
      {20, 200, 100, 3},  // between the boxes: ignored
  };
  const std::vector<int> labels = LabelTracks(tracks, anchors);
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0], 4);
  EXPECT_EQ(labels[1], 7);
  EXPECT_EQ(labels[2], kNoPerson);
}

TEST(PeopleLabelsTest, TwoPeopleOnOneTrackOrAZeroAnchorMeanNotOnePerson) {
  const std::vector<Track> tracks = {Standing(0, 100, 100, 0, 50), Standing(1, 300, 100, 0, 50)};
  const std::vector<int> labels =
      LabelTracks(tracks, {{5, 100, 100, 1}, {45, 100, 100, 2}, {5, 300, 100, 0}});
  EXPECT_EQ(labels[0], kNotOnePerson);
  EXPECT_EQ(labels[1], kNotOnePerson);
}

TEST(PeopleLabelsTest, OverlappingBoxesGoToTheNearestCentreAndFramesMayBeNear) {
  // Boxes of tracks 0 and 1 overlap; the anchor is nearer track 1's centre.
  const std::vector<Track> tracks = {Standing(0, 100, 100, 0, 20, 2), Standing(1, 115, 100, 0, 20, 2)};
  EXPECT_EQ(LabelTracks(tracks, {{4, 112, 100, 5}}), (std::vector<int>{kNoPerson, 5}));
  // Frame 5 is between two points (frames 4 and 6): one frame away, within the default distance of 2.
  EXPECT_EQ(LabelTracks(tracks, {{5, 98, 100, 6}}), (std::vector<int>{6, kNoPerson}));
  // With a distance of 0 only exact frames count.
  EXPECT_EQ(LabelTracks(tracks, {{5, 98, 100, 6}}, /*max_frame_distance=*/0),
            (std::vector<int>{kNoPerson, kNoPerson}));
}

TEST(PeopleLabelsTest, VtestLabelsAreKnownByTheVideoHashOnly) {
  const std::vector<PersonAnchor> vtest = VtestPeople();
  ASSERT_FALSE(vtest.empty());
  std::set<int> people;
  for (const PersonAnchor& a : vtest) {
    EXPECT_GE(a.frame, 0);
    EXPECT_LT(a.frame, 795);  // vtest.avi: 795 frames of 768x576
    EXPECT_GE(a.x, 0);
    EXPECT_LT(a.x, 768);
    EXPECT_GE(a.y, 0);
    EXPECT_LT(a.y, 576);
    EXPECT_GE(a.person, 1);
    people.insert(a.person);
  }
  EXPECT_EQ(people.size(), 10u);
  EXPECT_EQ(KnownPeople(kVtestFnv1a).size(), vtest.size());
  EXPECT_TRUE(KnownPeople(kVtestFnv1a + 1).empty());
  EXPECT_EQ(PersonAnchorsToText({{3, 1.5, 2, 7}, {4, 5, 6, 0}}), "3 1.5 2 7\n4 5 6 0\n");
}

}  // namespace
}  // namespace gcl::data

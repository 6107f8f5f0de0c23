// Links per-frame person detections into tracks: one track is taken to be one person.
//
//   std::vector<std::vector<gcl::data::Detection>> per_frame = ...;   // per_frame[f]: detections in frame f
//   std::vector<gcl::data::Track> tracks = gcl::data::LinkDetections(per_frame, gcl::data::TrackerOptions{});
//
// Geometry only: a detection continues a track when its centre lies near the track's constant-velocity
// prediction and its height is close to the track's. No appearance (colour) is used on purpose: the tracks
// become the identities of a re-identification test split, and a tracker that cut tracks where colours change
// would keep only colour-consistent identities, flattering colour-histogram matchers.
//
// Association is greedy per frame over candidate pairs sorted by distance (ties by track id, then detection
// index), so the result is a function of the input alone. Where people meet, a detection may fit two tracks
// or a track two detections; with `split_on_ambiguity` the tracks involved end there and new ones start, which
// trades a few shorter tracks for fewer identity switches (the split drops short tracks).
#ifndef GCL_DATA_FOOTAGE_PERSON_TRACKER_H_
#define GCL_DATA_FOOTAGE_PERSON_TRACKER_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/footage/person_detector.h"

namespace gcl::data {

struct TrackPoint {
  int frame = 0;
  cv::Rect2d box;
  double score = 0.0;
};

struct Track {
  int id = 0;                      // 0.. in order of creation (first frame, then detection order)
  std::vector<TrackPoint> points;  // increasing frames, at most one per frame
};

struct TrackerOptions {
  // Frames a track may go without a detection and still continue (HOG misses people for a frame or two).
  int max_gap = 4;
  // Gate on the centre: distance from the prediction, in track box heights, for a detection one frame after
  // the track's last one; each further frame adds half as much again.
  double max_centre_shift = 0.3;
  // Gate on the size: the detection's height over the track's lies in [1 / r, r]. On vtest.avi 1.3 let one
  // track jump from a woman to a man passing behind her (docs/real_footage.md); 1.2 did not.
  double max_height_ratio = 1.2;
  // The velocity is the centre's displacement over the last this-many frames of the track.
  int velocity_frames = 5;
  // A pair is ambiguous when the second-best candidate of its track or of its detection is within this factor
  // of the pair's distance (and inside the gate); with split_on_ambiguity such tracks end (see above).
  bool split_on_ambiguity = true;
  double ambiguity_ratio = 1.5;
};

std::string TrackerOptionsToText(const TrackerOptions& options);

// Throws std::invalid_argument naming the first field out of range.
void ValidateTrackerOptions(const TrackerOptions& options);

// Every track, short ones included, ordered by id.
std::vector<Track> LinkDetections(const std::vector<std::vector<Detection>>& detections_per_frame,
                                  const TrackerOptions& options);

}  // namespace gcl::data

#endif  // GCL_DATA_FOOTAGE_PERSON_TRACKER_H_

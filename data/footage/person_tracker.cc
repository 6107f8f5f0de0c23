#include "data/footage/person_tracker.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace gcl::data {
namespace {

cv::Point2d Centre(const cv::Rect2d& box) { return {box.x + 0.5 * box.width, box.y + 0.5 * box.height}; }

// Where and how tall a track is expected to be in `frame`.
struct Prediction {
  cv::Point2d centre;
  double height = 0.0;
  int frames_since_last = 0;
};

Prediction Predict(const Track& track, int frame, int velocity_frames) {
  const TrackPoint& last = track.points.back();
  size_t ref = track.points.size() - 1;
  while (ref > 0 && track.points[ref - 1].frame >= last.frame - velocity_frames) --ref;
  const TrackPoint& first = track.points[ref];
  double height_sum = 0.0;
  for (size_t i = ref; i < track.points.size(); ++i) height_sum += track.points[i].box.height;
  Prediction p;
  p.height = height_sum / static_cast<double>(track.points.size() - ref);
  p.frames_since_last = frame - last.frame;
  p.centre = Centre(last.box);
  if (first.frame < last.frame) {
    const cv::Point2d velocity = (Centre(last.box) - Centre(first.box)) / static_cast<double>(last.frame - first.frame);
    p.centre += velocity * static_cast<double>(p.frames_since_last);
  }
  return p;
}

struct Candidate {
  double distance;  // centre distance from the prediction, in predicted heights
  size_t track;     // index into the active list
  size_t detection;
};

}  // namespace

std::string TrackerOptionsToText(const TrackerOptions& options) {
  std::ostringstream text;
  text.precision(12);  // readable in the stamp, and finer than any setting anyone would tell apart
  text << "max_gap " << options.max_gap << " max_centre_shift " << options.max_centre_shift << " max_height_ratio "
       << options.max_height_ratio << " velocity_frames " << options.velocity_frames << " split_on_ambiguity "
       << (options.split_on_ambiguity ? 1 : 0) << " ambiguity_ratio " << options.ambiguity_ratio;
  return text.str();
}

void ValidateTrackerOptions(const TrackerOptions& options) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("TrackerOptions." + what); };
  if (options.max_gap < 0) fail("max_gap must be >= 0");
  if (!(options.max_centre_shift > 0.0)) fail("max_centre_shift must be > 0");
  if (!(options.max_height_ratio >= 1.0)) fail("max_height_ratio must be >= 1");
  if (options.velocity_frames < 1) fail("velocity_frames must be >= 1");
  if (!(options.ambiguity_ratio >= 1.0)) fail("ambiguity_ratio must be >= 1");
}

std::vector<Track> LinkDetections(const std::vector<std::vector<Detection>>& detections_per_frame,
                                  const TrackerOptions& options) {
  ValidateTrackerOptions(options);
  std::vector<Track> finished;
  std::vector<Track> active;  // kept in id order
  int next_id = 0;
  // Distances are floored here before the ambiguity ratio is applied: two candidates at 0.01 and 0.02 heights
  // are both on target, not a close call.
  constexpr double kDistanceFloor = 0.05;
  for (int frame = 0; frame < static_cast<int>(detections_per_frame.size()); ++frame) {
    const std::vector<Detection>& detections = detections_per_frame[frame];
    // Tracks that waited too long end before they can take a detection.
    std::vector<Track> still_active;
    for (Track& t : active) {
      if (frame - t.points.back().frame > options.max_gap + 1) finished.push_back(std::move(t));
      else still_active.push_back(std::move(t));
    }
    active = std::move(still_active);

    std::vector<Candidate> candidates;
    for (size_t t = 0; t < active.size(); ++t) {
      const Prediction p = Predict(active[t], frame, options.velocity_frames);
      const double gate = options.max_centre_shift * (1.0 + 0.5 * (p.frames_since_last - 1));
      for (size_t d = 0; d < detections.size(); ++d) {
        const cv::Rect2d& box = detections[d].box;
        const double ratio = box.height / p.height;
        if (ratio > options.max_height_ratio || ratio < 1.0 / options.max_height_ratio) continue;
        const cv::Point2d offset = Centre(box) - p.centre;
        const double distance = std::hypot(offset.x, offset.y) / p.height;
        if (distance <= gate) candidates.push_back({distance, t, d});
      }
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return std::tie(a.distance, a.track, a.detection) < std::tie(b.distance, b.track, b.detection);
    });
    std::vector<bool> track_done(active.size(), false), detection_used(detections.size(), false);
    for (const Candidate& c : candidates) {
      if (track_done[c.track] || detection_used[c.detection]) continue;
      if (options.split_on_ambiguity) {
        const double limit = options.ambiguity_ratio * std::max(c.distance, kDistanceFloor);
        bool ambiguous = false;
        for (const Candidate& other : candidates) {
          if (&other == &c || other.distance > limit) continue;
          if (other.track == c.track || other.detection == c.detection) ambiguous = true;
        }
        if (ambiguous) {
          // The track ends here; the detection is left to start a new track unless an unambiguous pair
          // claims it.
          track_done[c.track] = true;
          continue;
        }
      }
      track_done[c.track] = true;
      detection_used[c.detection] = true;
      active[c.track].points.push_back({frame, detections[c.detection].box, detections[c.detection].score});
    }
    // Tracks ended by an ambiguous meeting: they took no detection this frame and may not take one later.
    std::vector<Track> continuing;
    for (size_t t = 0; t < active.size(); ++t) {
      const bool extended = active[t].points.back().frame == frame;
      if (track_done[t] && !extended) finished.push_back(std::move(active[t]));
      else continuing.push_back(std::move(active[t]));
    }
    active = std::move(continuing);
    for (size_t d = 0; d < detections.size(); ++d) {
      if (detection_used[d]) continue;
      Track t;
      t.id = next_id++;
      t.points.push_back({frame, detections[d].box, detections[d].score});
      active.push_back(std::move(t));
    }
  }
  for (Track& t : active) finished.push_back(std::move(t));
  std::sort(finished.begin(), finished.end(), [](const Track& a, const Track& b) { return a.id < b.id; });
  return finished;
}

}  // namespace gcl::data

// A person re-identification test split cut from one static-camera video: detect people (HOG), link the
// detections into tracks (one track = one walk through the scene), and take two parts of each walk, separated
// in time, as two "cameras" of a Market-1501-layout folder. Tracks that person labels given by eye
// (data/footage/people_labels.h) put on the same person become one identity with several walks ("passes").
//
//   std::string split = gcl::data::EnsureVideoSplit(gcl::data::kOpencvDocVideo, "/tmp/gcl-cache");
//   gcl::data::ReidDataset d = gcl::data::LoadMarket1501(split);   // query vs bounding_box_test
//
// Output folder (file names as data/synth/market_naming.h writes them: PPPP_cCsS_FFFFFF_00.jpg, S the pass of
// that person, FFFFFF the video frame):
//   query/              the first part of each kept track (camera 1), `queries_per_track` crops
//   bounding_box_test/  the last part of each kept track (camera 2), `gallery_per_track` crops, so the Market
//                       protocol (gallery items with the query's pid AND camera dropped) compares the first
//                       part of a walk with the last part of the same walk and of the person's other walks
//   bounding_box_train/ the middle part (camera 3). The SAME people as the test: it is there because
//                       LoadMarket1501 wants a train split, and to show the whole walk; never train on it when
//                       reporting on this split
//   contact_sheet.png   one row per pass, grouped by identity: query | middle | gallery crops, to judge by eye
//   tracks.csv          every written crop: file, pid, person label, track, pass, part, frame, detector box
//   VIDEO_SPLIT         stamp (version, video size and hash, OpenCV version, every option and anchor, counts),
//                       written last
//
// Crops are framed like a detector box: the person centred, the box's 2:1 aspect, a small margin, resized to
// 64x128 (width x height). The split is a function of the video's bytes, the OpenCV build and the options.
// No appearance is used by the program anywhere in the selection (see data/footage/person_tracker.h for why).
#ifndef GCL_DATA_FOOTAGE_VIDEO_SPLIT_H_
#define GCL_DATA_FOOTAGE_VIDEO_SPLIT_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/footage/people_labels.h"
#include "data/footage/person_detector.h"
#include "data/footage/person_tracker.h"
#include "data/synth/market_naming.h"

namespace gcl::data {

// Bumped whenever the output for the same video and options changes; part of the stamp and the cache name.
inline constexpr int kVideoSplitVersion = 1;

// The video Debian's opencv-doc package ships (768x576, 795 frames at 10 fps, a street seen from above).
inline constexpr char kOpencvDocVideo[] = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

// Plays frames in order to `visit(index, frame_bgr)` until the frames end or `visit` returns false. A source
// may be played more than once and gives the same frames every time.
using FrameVisitor = std::function<bool(int index, const cv::Mat& frame_bgr)>;
struct FrameSource {
  std::string description;   // for messages and the stamp
  int frame_count_hint = 0;  // for progress; 0 when unknown
  std::function<void(const FrameVisitor& visit)> play;
};

// A video file read with OpenCV (FFmpeg). Throws std::runtime_error naming the file when it is missing or
// cannot be opened (now, and when played).
FrameSource VideoFileFrames(const std::string& path);

// Frames held in memory (8-bit BGR, all the same size).
FrameSource InMemoryFrames(std::vector<cv::Mat> frames);

using PersonDetectorFn = std::function<std::vector<Detection>(const cv::Mat& frame_bgr)>;

struct ViewOptions {
  int max_frames = 0;  // frames read from the video; 0 = all
  // Detect (and track) on every `frame_step`-th frame only, for speed: HOG is the slow part. On vtest.avi
  // (10 fps) a step of 2 gave four kept tracks that switch person where people cross, a step of 1 one, so the
  // default is 1.
  // TrackerOptions::max_gap counts these sampled frames.
  int frame_step = 1;
  // A track's usable points are those whose crop lies inside the frame but for `max_outside` of its height
  // (people cut by the frame edge make poor crops); a track needs `min_track_points` of them to be kept.
  double max_outside = 0.05;
  int min_track_points = 30;
  // The first and the last `view_fraction` of a track's usable points are its two views; the middle is left
  // out, so the views are separated in time (by a third of the walk at 1/3).
  double view_fraction = 1.0 / 3.0;
  // The two views' mean centres must lie at least this many box heights apart: a "person" that does not move
  // is usually a static object the detector likes, and a person standing still gives two identical views.
  double min_travel = 1.0;
  // Crops per kept track, evenly spaced in time within each part (consecutive frames are nearly identical).
  int queries_per_track = 2;
  int gallery_per_track = 4;
  int middle_per_track = 2;  // bounding_box_train
  // Crop framing: height = detector window height * crop_height_fraction, centred on the window (the default
  // people detector's 128-pixel window holds a ~96-pixel person, so 0.875 leaves an eighth of the person's height
  // as margin above and below), width = height * crop_width / crop_height.
  double crop_height_fraction = 0.875;
  int crop_width = 64;
  int crop_height = 128;
  int jpeg_quality = 95;
};

std::string ViewOptionsToText(const ViewOptions& options);

// Throws std::invalid_argument naming the first field out of range.
void ValidateViewOptions(const ViewOptions& options);

struct VideoSplitOptions {
  HogOptions hog;
  TrackerOptions tracker;
  ViewOptions views;
  // Person labels given by eye (data/footage/people_labels.h). Empty: every kept track is its own identity.
  std::vector<PersonAnchor> people;
};

// The options EnsureVideoSplit uses by default: the defaults of every struct, and the labels known for this
// video (VtestPeople() for Debian's vtest.avi, recognised by its bytes). Throws std::runtime_error naming the
// video when it cannot be read.
VideoSplitOptions DefaultVideoSplitOptions(const std::string& video);

// Every option, one "section field value ..." line each, then the anchors; what the stamp records.
std::string VideoSplitOptionsToText(const VideoSplitOptions& options);

// Applies "section.field=value,..." overrides, e.g. "hog.upscale=2,tracker.max_gap=3,views.max_frames=200"
// (sections hog, tracker, views; field names as in the structs; booleans 0/1). Throws std::runtime_error naming
// the item that is malformed, unknown or not a number. Ranges are checked by the Validate* functions.
void ApplyVideoSplitOverrides(const std::string& overrides, VideoSplitOptions& options);

// The crop rectangle for a detector box (frame pixels, may extend past the frame).
cv::Rect2d CropRect(const cv::Rect2d& detector_box, const ViewOptions& options);

// The crop of `frame_bgr` at `rect` (rounded to whole pixels), pixels outside the frame replicated from its
// edge, resized to crop_width x crop_height. Throws std::invalid_argument when `rect` misses the frame.
cv::Mat CutCrop(const cv::Mat& frame_bgr, const cv::Rect2d& rect, const ViewOptions& options);

enum class ViewPart { kQuery, kMiddle, kGallery };

struct PlannedCrop {
  int frame = 0;
  cv::Rect2d box;  // the detector box
  ViewPart part = ViewPart::kQuery;
  MarketName name;  // pid, camera 1 (query part) / 3 (middle) / 2 (gallery part), sequence = pass, frame
};

// One kept track: one walk of a person through the scene.
struct PlannedPass {
  int track_id = 0;
  int sequence = 1;                // 1.. within its identity, in track order
  std::vector<PlannedCrop> crops;  // query, then middle, then gallery; each in frame order
};

struct PlannedIdentity {
  int pid = 0;          // 1.. in order of the identity's first track
  int person = kNoPerson;  // the label by eye, or kNoPerson when the track had no anchor (then one pass)
  std::vector<PlannedPass> passes;
};

struct SplitPlan {
  std::vector<PlannedIdentity> identities;
  int tracks = 0;             // all tracks the tracker made
  int short_tracks = 0;       // dropped: fewer than min_track_points usable points
  int static_tracks = 0;      // dropped: views closer than min_travel
  int not_one_person = 0;     // dropped: labelled kNotOnePerson (anchors of two people, or a 0 anchor)
  int unlabelled_tracks = 0;  // kept as their own identity although labels were given (none fell on them)
  int extra_passes = 0;       // dropped: passes of a person beyond the 9 a Market name can number
};

// Which tracks are kept, how they group into identities (by `person_of_track`, one entry per track, as
// LabelTracks returns it; empty = every track its own identity) and which of their frames are cut, for frames
// of `frame_size`. Track point frames are video frame numbers.
SplitPlan PlanViews(const std::vector<Track>& tracks, const std::vector<int>& person_of_track, cv::Size frame_size,
                    const ViewOptions& options);

struct VideoSplitSummary {
  int frames = 0;  // frames read
  int detections = 0;
  int tracks = 0;
  int short_tracks = 0;
  int static_tracks = 0;
  int not_one_person = 0;
  int unlabelled_tracks = 0;
  int extra_passes = 0;
  int passes = 0;  // kept tracks
  int identities = 0;
  int query_images = 0;
  int gallery_images = 0;
  int train_images = 0;
  double seconds = 0.0;  // not in the stamp
};

// (stage, done, total): stage "detecting" counts frames read in the first pass (total may be 0 when unknown),
// "cutting" frames of the second pass. Called from the calling thread.
using VideoSplitProgress = std::function<void(const std::string& stage, size_t done, size_t total)>;

// Writes the split to `out_dir`, which must not exist: written in a hidden temporary sibling and renamed at
// the end, so `out_dir` is absent or complete. `detector` runs on every views.frame_step-th frame;
// `stamp_header` goes at the top of the VIDEO_SPLIT stamp. Throws std::runtime_error naming the path, or the
// frame source, on failure (and when no identity is left).
VideoSplitSummary WriteVideoSplit(const FrameSource& frames, const PersonDetectorFn& detector,
                                  const TrackerOptions& tracker, const ViewOptions& views,
                                  const std::vector<PersonAnchor>& people, const std::string& out_dir,
                                  const std::string& stamp_header, const VideoSplitProgress& progress = nullptr);

// The stamp header EnsureVideoSplit writes and checks: version, the video's size and FNV-1a hash, the OpenCV
// version, every option and anchor. Throws std::runtime_error naming the video when it cannot be read.
std::string VideoSplitStampHeader(const std::string& video, const VideoSplitOptions& options);

// `<stem>_split_v<version>_<hash of the stamp header>`, e.g. vtest_split_v1_3f2a9c0d1b7e4a55.
std::string VideoSplitName(const std::string& video, const VideoSplitOptions& options);

// Returns `<cache_dir>/<VideoSplitName>` after making sure it holds this split: reused when its stamp matches,
// made with the HOG detector (atomically) when absent. A folder there whose stamp is missing or different is an
// error naming it (it is never deleted here). A missing video is an error naming it. The first form uses
// DefaultVideoSplitOptions(video). Making the split of vtest.avi takes a few minutes on 2 cores (HOG).
std::string EnsureVideoSplit(const std::string& video, const std::string& cache_dir,
                             const VideoSplitProgress& progress = nullptr);
std::string EnsureVideoSplit(const std::string& video, const std::string& cache_dir,
                             const VideoSplitProgress& progress, const VideoSplitOptions& options);

// Counts read back from a finished split's stamp (throws std::runtime_error naming the stamp otherwise).
VideoSplitSummary ReadVideoSplitSummary(const std::string& split_dir);

}  // namespace gcl::data

#endif  // GCL_DATA_FOOTAGE_VIDEO_SPLIT_H_

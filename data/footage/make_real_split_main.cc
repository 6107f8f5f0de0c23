// Cuts a person re-identification test split (Market-1501 layout) from a static-camera video: HOG detections,
// tracks, two parts of each walk as cameras 1 and 2 (data/footage/video_split.h).
//
//   bazel run //:make_real_split -- --cache_dir ~/.cache/gcl              # Debian opencv-doc's vtest.avi
//   bazel run //:make_real_split -- --video street.avi --out /data/street_split --set views.max_frames=300
// With --out the folder must not exist; with --cache_dir the split is made once into
// <cache_dir>/<video stem>_split_v<version>_<hash> and reused afterwards. A relative path is taken from the
// directory `bazel run` was started in.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "common/progress_line.h"
#include "common/user_path.h"
#include "data/footage/person_detector.h"
#include "data/footage/video_split.h"

namespace {

constexpr char kUsage[] =
    "usage: make_real_split (--out DIR | --cache_dir DIR) [--video FILE] [--set section.field=value,...]\n"
    "                       [--no_people_labels]\n"
    "  --video      a static-camera video OpenCV can read (default: Debian opencv-doc's vtest.avi,\n"
    "               /usr/share/doc/opencv-doc/examples/data/vtest.avi)\n"
    "  --out        write the split to DIR (must not exist)\n"
    "  --cache_dir  make the split once into DIR/<video stem>_split_v<version>_<hash>, reuse it afterwards\n"
    "  --set        change options, e.g. hog.upscale=2,tracker.max_gap=3,views.max_frames=200\n"
    "               (fields of HogOptions, TrackerOptions and ViewOptions in data/footage/)\n"
    "  --no_people_labels  ignore the person labels known for the video (vtest.avi has some): every track\n"
    "               becomes its own identity\n"
    "Prints the folder, its counts and the contact sheet to look at (one row per walk, grouped by\n"
    "identity).\n";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "make_real_split: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string video = gcl::data::kOpencvDocVideo, out, cache_dir, overrides;
  bool people_labels = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    if (arg == "--no_people_labels") {
      people_labels = false;
      continue;
    }
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage("missing value for " + arg);
    }
    if (arg == "--video") video = value;
    else if (arg == "--out") out = value;
    else if (arg == "--cache_dir") cache_dir = value;
    else if (arg == "--set") overrides += "," + value;
    else return Usage("unknown argument " + arg);
  }
  if (out.empty() == cache_dir.empty()) return Usage("give exactly one of --out and --cache_dir");
  if (video.empty()) return Usage("--video is empty");
  video = gcl::UserPath(video);

  std::unique_ptr<gcl::ProgressLine> bar;
  std::string bar_stage;
  const gcl::data::VideoSplitProgress progress = [&](const std::string& stage, size_t done, size_t total) {
    if (stage != bar_stage) {
      bar = std::make_unique<gcl::ProgressLine>(stage == "detecting" ? "detecting people" : "cutting crops",
                                                "frames");
      bar_stage = stage;
    }
    bar->Update(done, total);
  };
  try {
    gcl::data::VideoSplitOptions options = gcl::data::DefaultVideoSplitOptions(video);
    if (!people_labels) options.people.clear();
    gcl::data::ApplyVideoSplitOverrides(overrides, options);
    std::string folder;
    if (!cache_dir.empty()) {
      folder = gcl::data::EnsureVideoSplit(video, gcl::UserPath(cache_dir), progress, options);
    } else {
      folder = gcl::UserPath(out);
      const gcl::data::HogPersonDetector hog(options.hog);
      gcl::data::ValidateViewOptions(options.views);
      const std::string header = gcl::data::VideoSplitStampHeader(video, options);
      gcl::data::WriteVideoSplit(gcl::data::VideoFileFrames(video),
                                 [&hog](const cv::Mat& frame) { return hog.Detect(frame); }, options.tracker,
                                 options.views, options.people, folder, header, progress);
    }
    const gcl::data::VideoSplitSummary s = gcl::data::ReadVideoSplitSummary(folder);
    std::printf("%s\n", folder.c_str());
    std::printf("%d frames, %d detections, %d tracks: %d too short, %d static, %d labelled not one person, "
                "%d beyond 9 passes; %d kept (%d without a person label)\n",
                s.frames, s.detections, s.tracks, s.short_tracks, s.static_tracks, s.not_one_person, s.extra_passes,
                s.passes, s.unlabelled_tracks);
    std::printf("%d identities, %d query images, %d gallery images (bounding_box_test), %d middle-of-walk images "
                "(bounding_box_train: the same people, not for training)\n",
                s.identities, s.query_images, s.gallery_images, s.train_images);
    std::printf("contact sheet (one row per walk, grouped by identity: query | middle | gallery): "
                "%s/contact_sheet.png\n",
                folder.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_real_split: %s\n", e.what());
    return 1;
  }
}

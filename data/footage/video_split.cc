#include "data/footage/video_split.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <variant>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

namespace gcl::data {
namespace fs = std::filesystem;
namespace {

constexpr char kStampFile[] = "VIDEO_SPLIT";

uint64_t Fnv1a(const char* data, size_t size, uint64_t hash = 1469598103934665603ull) {
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string Hex(uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string MissingVideoMessage(const std::string& path);

// FNV-1a of a file's bytes and its size; throws std::runtime_error naming the file when it cannot be read.
uint64_t FileFnv1a(const std::string& path, uint64_t* size = nullptr) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw std::runtime_error(MissingVideoMessage(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read video " + path);
  uint64_t hash = 1469598103934665603ull, bytes = 0;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    hash = Fnv1a(buffer.data(), static_cast<size_t>(got), hash);
    bytes += static_cast<uint64_t>(got);
  }
  if (in.bad()) throw std::runtime_error("error reading video " + path);
  if (size != nullptr) *size = bytes;
  return hash;
}

std::string MissingVideoMessage(const std::string& path) {
  std::string message = "video " + path + " not found";
  if (path == kOpencvDocVideo) message += " (it comes with Debian's opencv-doc package, which ./bazelw installs)";
  return message;
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

const char* SplitFolder(ViewPart part) {
  switch (part) {
    case ViewPart::kQuery: return "query";
    case ViewPart::kMiddle: return "bounding_box_train";
    case ViewPart::kGallery: return "bounding_box_test";
  }
  return "?";
}

const char* PartName(ViewPart part) {
  switch (part) {
    case ViewPart::kQuery: return "query";
    case ViewPart::kMiddle: return "middle";
    case ViewPart::kGallery: return "gallery";
  }
  return "?";
}

int CameraOf(ViewPart part) {
  switch (part) {
    case ViewPart::kQuery: return 1;
    case ViewPart::kGallery: return 2;
    case ViewPart::kMiddle: return 3;
  }
  return 1;
}

// How far `rect` reaches past the frame, as a fraction of its height.
double OutsideFraction(const cv::Rect2d& rect, cv::Size frame) {
  const double over = std::max({0.0, -rect.x, -rect.y, rect.x + rect.width - frame.width,
                                rect.y + rect.height - frame.height});
  return over / rect.height;
}

cv::Point2d Centre(const cv::Rect2d& box) { return {box.x + 0.5 * box.width, box.y + 0.5 * box.height}; }

// `count` indices spread evenly over [begin, end): the middle of each of `count` equal stretches.
std::vector<size_t> EvenlySpaced(size_t begin, size_t end, int count) {
  std::vector<size_t> picked;
  const size_t n = end - begin;
  const size_t k = std::min<size_t>(n, static_cast<size_t>(std::max(count, 0)));
  for (size_t i = 0; i < k; ++i) picked.push_back(begin + (2 * i + 1) * n / (2 * k));
  return picked;
}

// Crops of a plan in a flat order: identity, pass, crop.
struct CropRef {
  const PlannedIdentity* identity;
  const PlannedPass* pass;
  const PlannedCrop* crop;
};

std::vector<CropRef> AllCrops(const SplitPlan& plan) {
  std::vector<CropRef> refs;
  for (const PlannedIdentity& identity : plan.identities) {
    for (const PlannedPass& pass : identity.passes) {
      for (const PlannedCrop& crop : pass.crops) refs.push_back({&identity, &pass, &crop});
    }
  }
  return refs;
}

// One row per pass, grouped by identity: pid (and pass, track), then query | middle | gallery crops. A thin
// bright line separates identities.
cv::Mat ContactSheet(const std::vector<CropRef>& refs, const std::vector<cv::Mat>& crops, const ViewOptions& options) {
  const int label_width = 56, gap = 10, w = options.crop_width, h = options.crop_height, row_height = h + 2;
  const int columns = options.queries_per_track + options.middle_per_track + options.gallery_per_track;
  std::vector<const PlannedPass*> rows;
  for (const CropRef& ref : refs) {
    if (rows.empty() || rows.back() != ref.pass) rows.push_back(ref.pass);
  }
  cv::Mat sheet(std::max<int>(1, static_cast<int>(rows.size())) * row_height, label_width + columns * w + 2 * gap,
                CV_8UC3, cv::Scalar(40, 40, 40));
  int row = -1;
  const PlannedPass* current = nullptr;
  int slot[3] = {0, 0, 0};
  for (size_t i = 0; i < refs.size(); ++i) {
    const CropRef& ref = refs[i];
    if (ref.pass != current) {
      current = ref.pass;
      ++row;
      slot[0] = slot[1] = slot[2] = 0;
      const int y = row * row_height;
      if (ref.pass == &ref.identity->passes.front() && row > 0) {
        cv::line(sheet, cv::Point(0, y - 1), cv::Point(sheet.cols - 1, y - 1), cv::Scalar(0, 200, 255), 1);
      }
      cv::putText(sheet, std::to_string(ref.identity->pid), cv::Point(4, y + h / 2 - 8), cv::FONT_HERSHEY_PLAIN,
                  1.2, cv::Scalar(0, 255, 255), 1);
      cv::putText(sheet, "s" + std::to_string(ref.pass->sequence), cv::Point(4, y + h / 2 + 10),
                  cv::FONT_HERSHEY_PLAIN, 0.9, cv::Scalar(200, 200, 200), 1);
      cv::putText(sheet, "t" + std::to_string(ref.pass->track_id), cv::Point(4, y + h / 2 + 26),
                  cv::FONT_HERSHEY_PLAIN, 0.9, cv::Scalar(200, 200, 200), 1);
    }
    const int part = static_cast<int>(ref.crop->part);
    int x = label_width;
    if (ref.crop->part == ViewPart::kQuery) x += slot[part] * w;
    if (ref.crop->part == ViewPart::kMiddle) x += (options.queries_per_track + slot[part]) * w + gap;
    if (ref.crop->part == ViewPart::kGallery) {
      x += (options.queries_per_track + options.middle_per_track + slot[part]) * w + 2 * gap;
    }
    ++slot[part];
    crops[i].copyTo(sheet(cv::Rect(x, row * row_height, w, h)));
  }
  return sheet;
}

}  // namespace

FrameSource VideoFileFrames(const std::string& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw std::runtime_error(MissingVideoMessage(path));
  cv::VideoCapture probe(path);
  if (!probe.isOpened()) throw std::runtime_error("OpenCV cannot open video " + path);
  FrameSource source;
  source.description = path;
  source.frame_count_hint = std::max(0, static_cast<int>(probe.get(cv::CAP_PROP_FRAME_COUNT)));
  source.play = [path](const FrameVisitor& visit) {
    cv::VideoCapture capture(path);
    if (!capture.isOpened()) throw std::runtime_error("OpenCV cannot open video " + path);
    cv::Mat frame;
    for (int index = 0; capture.read(frame); ++index) {
      if (frame.type() != CV_8UC3) {
        throw std::runtime_error("video " + path + ": frame " + std::to_string(index) + " is not 8-bit BGR");
      }
      if (!visit(index, frame)) break;
    }
  };
  return source;
}

FrameSource InMemoryFrames(std::vector<cv::Mat> frames) {
  FrameSource source;
  source.description = "in-memory frames (" + std::to_string(frames.size()) + ")";
  source.frame_count_hint = static_cast<int>(frames.size());
  auto shared = std::make_shared<std::vector<cv::Mat>>(std::move(frames));
  source.play = [shared](const FrameVisitor& visit) {
    for (size_t i = 0; i < shared->size(); ++i) {
      if (!visit(static_cast<int>(i), (*shared)[i])) break;
    }
  };
  return source;
}

std::string ViewOptionsToText(const ViewOptions& o) {
  std::ostringstream text;
  text.precision(12);  // readable in the stamp, and finer than any setting anyone would tell apart
  text << "max_frames " << o.max_frames << " frame_step " << o.frame_step << " max_outside " << o.max_outside
       << " min_track_points " << o.min_track_points << " view_fraction " << o.view_fraction << " min_travel "
       << o.min_travel << " queries_per_track " << o.queries_per_track << " gallery_per_track "
       << o.gallery_per_track << " middle_per_track " << o.middle_per_track << " crop_height_fraction "
       << o.crop_height_fraction << " crop " << o.crop_width << "x" << o.crop_height << " jpeg_quality "
       << o.jpeg_quality;
  return text.str();
}

void ValidateViewOptions(const ViewOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("ViewOptions." + what); };
  if (o.max_frames < 0) fail("max_frames must be >= 0");
  if (o.frame_step < 1) fail("frame_step must be >= 1");
  if (!(o.max_outside >= 0.0 && o.max_outside < 1.0)) fail("max_outside must lie in [0, 1)");
  if (o.min_track_points < 3) fail("min_track_points must be >= 3");
  if (!(o.view_fraction > 0.0 && o.view_fraction <= 0.5)) fail("view_fraction must lie in (0, 0.5]");
  if (!(o.min_travel >= 0.0)) fail("min_travel must be >= 0");
  if (o.queries_per_track < 1) fail("queries_per_track must be >= 1");
  if (o.gallery_per_track < 1) fail("gallery_per_track must be >= 1");
  if (o.middle_per_track < 1) fail("middle_per_track must be >= 1 (LoadMarket1501 needs a train split)");
  if (!(o.crop_height_fraction > 0.0 && o.crop_height_fraction <= 2.0)) {
    fail("crop_height_fraction must lie in (0, 2]");
  }
  if (o.crop_width < 8 || o.crop_height < 8) fail("crop size must be at least 8x8");
  if (o.jpeg_quality < 1 || o.jpeg_quality > 100) fail("jpeg_quality must lie in [1, 100]");
}

std::string VideoSplitOptionsToText(const VideoSplitOptions& options) {
  return "hog " + HogOptionsToText(options.hog) + "\ntracker " + TrackerOptionsToText(options.tracker) +
         "\nviews " + ViewOptionsToText(options.views) + "\npeople " + std::to_string(options.people.size()) +
         " anchors (frame x y person)\n" + PersonAnchorsToText(options.people);
}

VideoSplitOptions DefaultVideoSplitOptions(const std::string& video) {
  VideoSplitOptions options;
  options.people = KnownPeople(FileFnv1a(video));
  return options;
}

void ApplyVideoSplitOverrides(const std::string& overrides, VideoSplitOptions& options) {
  using Field = std::variant<int*, double*, bool*>;
  HogOptions& h = options.hog;
  TrackerOptions& t = options.tracker;
  ViewOptions& v = options.views;
  const std::map<std::string, Field> fields = {
      {"hog.upscale", &h.upscale},
      {"hog.scale_step", &h.scale_step},
      {"hog.levels", &h.levels},
      {"hog.window_stride", &h.window_stride},
      {"hog.hit_threshold", &h.hit_threshold},
      {"hog.merge_iou", &h.merge_iou},
      {"hog.min_support", &h.min_support},
      {"tracker.max_gap", &t.max_gap},
      {"tracker.max_centre_shift", &t.max_centre_shift},
      {"tracker.max_height_ratio", &t.max_height_ratio},
      {"tracker.velocity_frames", &t.velocity_frames},
      {"tracker.split_on_ambiguity", &t.split_on_ambiguity},
      {"tracker.ambiguity_ratio", &t.ambiguity_ratio},
      {"views.max_frames", &v.max_frames},
      {"views.frame_step", &v.frame_step},
      {"views.max_outside", &v.max_outside},
      {"views.min_track_points", &v.min_track_points},
      {"views.view_fraction", &v.view_fraction},
      {"views.min_travel", &v.min_travel},
      {"views.queries_per_track", &v.queries_per_track},
      {"views.gallery_per_track", &v.gallery_per_track},
      {"views.middle_per_track", &v.middle_per_track},
      {"views.crop_height_fraction", &v.crop_height_fraction},
      {"views.crop_width", &v.crop_width},
      {"views.crop_height", &v.crop_height},
      {"views.jpeg_quality", &v.jpeg_quality},
  };
  std::stringstream stream(overrides);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      throw std::runtime_error("video split override '" + item + "': expected section.field=value");
    }
    const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    const auto it = fields.find(name);
    if (it == fields.end()) throw std::runtime_error("video split override: unknown field '" + name + "'");
    try {
      size_t used = 0;
      if (std::holds_alternative<double*>(it->second)) {
        const double parsed = std::stod(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
        *std::get<double*>(it->second) = parsed;
      } else {
        const int parsed = std::stoi(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
        if (std::holds_alternative<bool*>(it->second)) {
          if (parsed != 0 && parsed != 1) throw std::invalid_argument(value);
          *std::get<bool*>(it->second) = parsed == 1;
        } else {
          *std::get<int*>(it->second) = parsed;
        }
      }
    } catch (const std::logic_error&) {
      throw std::runtime_error("video split override " + name + ": bad value '" + value + "'");
    }
  }
}

cv::Rect2d CropRect(const cv::Rect2d& detector_box, const ViewOptions& options) {
  const double height = detector_box.height * options.crop_height_fraction;
  const double width = height * options.crop_width / options.crop_height;
  const cv::Point2d c = Centre(detector_box);
  return {c.x - 0.5 * width, c.y - 0.5 * height, width, height};
}

cv::Mat CutCrop(const cv::Mat& frame_bgr, const cv::Rect2d& rect, const ViewOptions& options) {
  // Whole pixels (half a pixel is far below what a detector box is good for), the part outside the frame
  // replicated from its edge, then resized: INTER_AREA when shrinking (no aliasing), bilinear when enlarging.
  const cv::Rect whole(static_cast<int>(std::lround(rect.x)), static_cast<int>(std::lround(rect.y)),
                       std::max(1, static_cast<int>(std::lround(rect.width))),
                       std::max(1, static_cast<int>(std::lround(rect.height))));
  const cv::Rect inside = whole & cv::Rect(0, 0, frame_bgr.cols, frame_bgr.rows);
  if (inside.empty()) throw std::invalid_argument("CutCrop: the crop rectangle lies outside the frame");
  cv::Mat padded;
  cv::copyMakeBorder(frame_bgr(inside), padded, inside.y - whole.y, whole.br().y - inside.br().y,
                     inside.x - whole.x, whole.br().x - inside.br().x, cv::BORDER_REPLICATE);
  const cv::Size out(options.crop_width, options.crop_height);
  cv::Mat crop;
  cv::resize(padded, crop, out, 0, 0, padded.rows > out.height ? cv::INTER_AREA : cv::INTER_LINEAR);
  return crop;
}

SplitPlan PlanViews(const std::vector<Track>& tracks, const std::vector<int>& person_of_track, cv::Size frame_size,
                    const ViewOptions& options) {
  ValidateViewOptions(options);
  if (!person_of_track.empty() && person_of_track.size() != tracks.size()) {
    throw std::invalid_argument("PlanViews: " + std::to_string(person_of_track.size()) + " labels for " +
                                std::to_string(tracks.size()) + " tracks");
  }
  SplitPlan plan;
  plan.tracks = static_cast<int>(tracks.size());
  std::map<int, size_t> identity_of_person;  // labelled person -> index into plan.identities
  for (size_t t = 0; t < tracks.size(); ++t) {
    const Track& track = tracks[t];
    std::vector<const TrackPoint*> usable;
    for (const TrackPoint& p : track.points) {
      if (OutsideFraction(CropRect(p.box, options), frame_size) <= options.max_outside) usable.push_back(&p);
    }
    if (static_cast<int>(usable.size()) < options.min_track_points) {
      ++plan.short_tracks;
      continue;
    }
    const size_t n = usable.size();
    const size_t k = std::max<size_t>(1, static_cast<size_t>(std::floor(n * options.view_fraction)));
    cv::Point2d first_centre(0, 0), last_centre(0, 0);
    double height = 0.0;
    for (size_t i = 0; i < k; ++i) {
      first_centre += Centre(usable[i]->box);
      last_centre += Centre(usable[n - k + i]->box);
    }
    for (const TrackPoint* p : usable) height += p->box.height;
    first_centre /= static_cast<double>(k);
    last_centre /= static_cast<double>(k);
    height /= static_cast<double>(n);
    if (cv::norm(last_centre - first_centre) < options.min_travel * height) {
      ++plan.static_tracks;
      continue;
    }
    const int person = person_of_track.empty() ? kNoPerson : person_of_track[t];
    if (person == kNotOnePerson) {
      ++plan.not_one_person;
      continue;
    }
    if (person == kNoPerson && !person_of_track.empty()) ++plan.unlabelled_tracks;
    PlannedIdentity* identity = nullptr;
    if (person != kNoPerson && identity_of_person.count(person)) {
      identity = &plan.identities[identity_of_person.at(person)];
    } else {
      if (person != kNoPerson) identity_of_person[person] = plan.identities.size();
      plan.identities.emplace_back();
      identity = &plan.identities.back();
      identity->pid = static_cast<int>(plan.identities.size());
      identity->person = person;
    }
    // A Market name numbers sequences 1..9.
    if (identity->passes.size() >= 9) {
      ++plan.extra_passes;
      continue;
    }
    PlannedPass pass;
    pass.track_id = track.id;
    pass.sequence = static_cast<int>(identity->passes.size()) + 1;
    auto add = [&](const std::vector<size_t>& indices, ViewPart part) {
      for (size_t i : indices) {
        PlannedCrop crop;
        crop.frame = usable[i]->frame;
        crop.box = usable[i]->box;
        crop.part = part;
        crop.name = MarketName{identity->pid, CameraOf(part), pass.sequence, crop.frame, /*box=*/0};
        pass.crops.push_back(crop);
      }
    };
    add(EvenlySpaced(0, k, options.queries_per_track), ViewPart::kQuery);
    add(EvenlySpaced(k, n - k, options.middle_per_track), ViewPart::kMiddle);
    add(EvenlySpaced(n - k, n, options.gallery_per_track), ViewPart::kGallery);
    identity->passes.push_back(std::move(pass));
  }
  return plan;
}

VideoSplitSummary WriteVideoSplit(const FrameSource& frames, const PersonDetectorFn& detector,
                                  const TrackerOptions& tracker, const ViewOptions& views,
                                  const std::vector<PersonAnchor>& people, const std::string& out_dir,
                                  const std::string& stamp_header, const VideoSplitProgress& progress) {
  ValidateViewOptions(views);
  ValidateTrackerOptions(tracker);
  const auto start = std::chrono::steady_clock::now();
  const fs::path final_dir = fs::absolute(fs::path(out_dir)).lexically_normal();
  if (fs::exists(final_dir)) throw std::runtime_error("video split output " + final_dir.string() + " already exists");

  VideoSplitSummary summary;
  size_t total = static_cast<size_t>(frames.frame_count_hint);
  if (views.max_frames > 0 && (total == 0 || static_cast<size_t>(views.max_frames) < total)) total = views.max_frames;
  // detections[i]: frame i * frame_step.
  std::vector<std::vector<Detection>> detections;
  cv::Size frame_size;
  frames.play([&](int index, const cv::Mat& frame) {
    if (views.max_frames > 0 && index >= views.max_frames) return false;
    if (index == 0) frame_size = frame.size();
    if (frame.size() != frame_size || frame.type() != CV_8UC3) {
      throw std::runtime_error(frames.description + ": frame " + std::to_string(index) +
                               " differs in size or type from frame 0");
    }
    summary.frames = index + 1;
    if (index % views.frame_step == 0) {
      detections.push_back(detector(frame));
      summary.detections += static_cast<int>(detections.back().size());
    }
    if (progress) progress("detecting", static_cast<size_t>(index) + 1, total);
    return true;
  });
  if (summary.frames == 0) throw std::runtime_error(frames.description + ": no frames could be read");

  std::vector<Track> tracks = LinkDetections(detections, tracker);
  for (Track& track : tracks) {
    for (TrackPoint& p : track.points) p.frame *= views.frame_step;
  }
  const SplitPlan plan =
      PlanViews(tracks, people.empty() ? std::vector<int>{} : LabelTracks(tracks, people, views.frame_step),
                frame_size, views);
  summary.tracks = plan.tracks;
  summary.short_tracks = plan.short_tracks;
  summary.static_tracks = plan.static_tracks;
  summary.not_one_person = plan.not_one_person;
  summary.unlabelled_tracks = plan.unlabelled_tracks;
  summary.extra_passes = plan.extra_passes;
  summary.identities = static_cast<int>(plan.identities.size());
  for (const PlannedIdentity& identity : plan.identities) summary.passes += static_cast<int>(identity.passes.size());
  if (plan.identities.empty()) {
    throw std::runtime_error(frames.description + ": no identity left (" + std::to_string(summary.frames) +
                             " frames, " + std::to_string(summary.detections) + " detections, " +
                             std::to_string(plan.tracks) + " tracks, " + std::to_string(plan.short_tracks) +
                             " too short, " + std::to_string(plan.static_tracks) + " static, " +
                             std::to_string(plan.not_one_person) + " labelled as not one person)");
  }

  const std::vector<CropRef> refs = AllCrops(plan);
  std::map<int, std::vector<size_t>> wanted;  // frame -> indices into refs
  for (size_t i = 0; i < refs.size(); ++i) wanted[refs[i].crop->frame].push_back(i);

  // Unique per process and call, so concurrent writers never share a folder.
  static std::atomic<int> call_counter{0};
  const fs::path tmp_dir =
      final_dir.parent_path() / ("." + final_dir.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(call_counter++));
  std::error_code ignored;
  fs::remove_all(tmp_dir, ignored);
  try {
    for (ViewPart part : {ViewPart::kQuery, ViewPart::kMiddle, ViewPart::kGallery}) {
      fs::create_directories(tmp_dir / SplitFolder(part));
    }
    std::vector<cv::Mat> crops(refs.size());
    const std::vector<int> jpeg = {cv::IMWRITE_JPEG_QUALITY, views.jpeg_quality};
    int seen = 0;
    frames.play([&](int index, const cv::Mat& frame) {
      if (index >= summary.frames) return false;
      if (progress) progress("cutting", static_cast<size_t>(index) + 1, static_cast<size_t>(summary.frames));
      ++seen;
      const auto it = wanted.find(index);
      if (it == wanted.end()) return true;
      for (size_t i : it->second) {
        const PlannedCrop& planned = *refs[i].crop;
        cv::Mat crop = CutCrop(frame, CropRect(planned.box, views), views);
        std::vector<uchar> bytes;
        if (!cv::imencode(".jpg", crop, bytes, jpeg)) throw std::runtime_error("cannot encode a JPEG crop");
        WriteBytes(tmp_dir / SplitFolder(planned.part) / FormatMarketName(planned.name),
                   std::string(bytes.begin(), bytes.end()));
        crops[i] = std::move(crop);
      }
      return true;
    });
    if (seen != summary.frames) {
      throw std::runtime_error(frames.description + ": the second pass read " + std::to_string(seen) +
                               " frames, the first " + std::to_string(summary.frames));
    }

    std::ostringstream csv;
    csv.precision(2);
    csv << std::fixed << "file,pid,person,track,pass,part,frame,box_x,box_y,box_w,box_h\n";
    for (const CropRef& ref : refs) {
      const PlannedCrop& crop = *ref.crop;
      csv << SplitFolder(crop.part) << "/" << FormatMarketName(crop.name) << "," << ref.identity->pid << ","
          << ref.identity->person << "," << ref.pass->track_id << "," << ref.pass->sequence << ","
          << PartName(crop.part) << "," << crop.frame << "," << crop.box.x << "," << crop.box.y << ","
          << crop.box.width << "," << crop.box.height << "\n";
      if (crop.part == ViewPart::kQuery) ++summary.query_images;
      if (crop.part == ViewPart::kGallery) ++summary.gallery_images;
      if (crop.part == ViewPart::kMiddle) ++summary.train_images;
    }
    WriteBytes(tmp_dir / "tracks.csv", csv.str());
    std::vector<uchar> png;
    if (!cv::imencode(".png", ContactSheet(refs, crops, views), png)) {
      throw std::runtime_error("cannot encode the contact sheet");
    }
    WriteBytes(tmp_dir / "contact_sheet.png", std::string(png.begin(), png.end()));
    std::ostringstream stamp;
    stamp << stamp_header << "source " << frames.description << "\ncounts frames " << summary.frames
          << " detections " << summary.detections << " tracks " << summary.tracks << " short " << summary.short_tracks
          << " static " << summary.static_tracks << " not_one_person " << summary.not_one_person << " unlabelled "
          << summary.unlabelled_tracks << " extra_passes " << summary.extra_passes << " passes " << summary.passes
          << " identities " << summary.identities << " query " << summary.query_images << " gallery "
          << summary.gallery_images << " train " << summary.train_images << "\n";
    WriteBytes(tmp_dir / kStampFile, stamp.str());
    std::error_code rename_error;
    fs::rename(tmp_dir, final_dir, rename_error);
    if (rename_error) {
      throw std::runtime_error("cannot rename " + tmp_dir.string() + " to " + final_dir.string() + ": " +
                               rename_error.message());
    }
  } catch (...) {
    fs::remove_all(tmp_dir, ignored);
    throw;
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

std::string VideoSplitStampHeader(const std::string& video, const VideoSplitOptions& options) {
  uint64_t size = 0;
  const uint64_t hash = FileFnv1a(video, &size);
  return "gcl video split v" + std::to_string(kVideoSplitVersion) + "\nvideo bytes " + std::to_string(size) +
         " fnv1a " + Hex(hash) + "\nopencv " + CV_VERSION + "\n" + VideoSplitOptionsToText(options);
}

namespace {

std::string NameFromHeader(const std::string& video, const std::string& header) {
  std::string stem = fs::path(video).stem().string();
  if (stem.empty()) stem = "video";
  return stem + "_split_v" + std::to_string(kVideoSplitVersion) + "_" + Hex(Fnv1a(header.data(), header.size()));
}

bool StampMatches(const fs::path& dir, const std::string& header) {
  std::ifstream in(dir / kStampFile, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  return text.str().compare(0, header.size(), header) == 0;
}

}  // namespace

std::string VideoSplitName(const std::string& video, const VideoSplitOptions& options) {
  return NameFromHeader(video, VideoSplitStampHeader(video, options));
}

std::string EnsureVideoSplit(const std::string& video, const std::string& cache_dir,
                             const VideoSplitProgress& progress) {
  return EnsureVideoSplit(video, cache_dir, progress, DefaultVideoSplitOptions(video));
}

std::string EnsureVideoSplit(const std::string& video, const std::string& cache_dir,
                             const VideoSplitProgress& progress, const VideoSplitOptions& options) {
  ValidateHogOptions(options.hog);
  ValidateTrackerOptions(options.tracker);
  ValidateViewOptions(options.views);
  const std::string header = VideoSplitStampHeader(video, options);
  const fs::path dir = fs::absolute(fs::path(cache_dir) / NameFromHeader(video, header)).lexically_normal();
  if (fs::exists(dir)) {
    if (StampMatches(dir, header)) return dir.string();
    throw std::runtime_error("video split cache " + dir.string() + " exists but its " + kStampFile +
                             " stamp is missing or does not match " + video +
                             " and these options; delete the folder to make it again");
  }
  fs::create_directories(fs::path(cache_dir));
  const HogPersonDetector hog(options.hog);
  const PersonDetectorFn detector = [&hog](const cv::Mat& frame) { return hog.Detect(frame); };
  try {
    WriteVideoSplit(VideoFileFrames(video), detector, options.tracker, options.views, options.people, dir.string(),
                    header, progress);
  } catch (const std::exception&) {
    // Another process may have finished the same split first; its complete copy is as good as ours.
    if (StampMatches(dir, header)) return dir.string();
    throw;
  }
  return dir.string();
}

VideoSplitSummary ReadVideoSplitSummary(const std::string& split_dir) {
  const fs::path stamp = fs::path(split_dir) / kStampFile;
  std::ifstream in(stamp);
  if (!in) throw std::runtime_error("no video split stamp " + stamp.string());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("counts ", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    std::map<std::string, int> values;
    std::string key;
    int value = 0;
    while (fields >> key >> value) values[key] = value;
    VideoSplitSummary s;
    const std::pair<const char*, int*> keys[] = {
        {"frames", &s.frames},         {"detections", &s.detections},
        {"tracks", &s.tracks},         {"short", &s.short_tracks},
        {"static", &s.static_tracks},  {"not_one_person", &s.not_one_person},
        {"unlabelled", &s.unlabelled_tracks}, {"extra_passes", &s.extra_passes},
        {"passes", &s.passes},         {"identities", &s.identities},
        {"query", &s.query_images},    {"gallery", &s.gallery_images},
        {"train", &s.train_images}};
    for (const auto& [name, field] : keys) {
      const auto it = values.find(name);
      if (it == values.end()) throw std::runtime_error(stamp.string() + ": counts line lacks '" + name + "'");
      *field = it->second;
    }
    return s;
  }
  throw std::runtime_error(stamp.string() + " has no counts line (an unfinished or foreign folder)");
}

}  // namespace gcl::data

#include "data/synth/synthetic_world.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/parallel_for.h"
#include "data/body/body_model.h"
#include "data/render/rasterizer.h"
#include "data/synth/appearance.h"
#include "data/synth/background.h"
#include "data/synth/camera_model.h"
#include "data/synth/degrade.h"
#include "data/synth/identity.h"
#include "data/synth/market_naming.h"
#include "data/synth/rng.h"

namespace gcl::data {
namespace {

namespace fs = std::filesystem;

constexpr float kPi = 3.14159265358979f;
constexpr const char* kStampFile = "SYNTH_DATASET";

// Stream tags of Rng::Fork: one per purpose, so adding draws to one purpose leaves the others unchanged.
enum StreamTag : uint64_t {
  kCameraStream = 1,
  kTemplateStream,
  kPidStream,
  kPersonStream,
  kDistractorPersonStream,
  kVisitStream,
  kDistractorStream,
  kRenderStream,
};

enum class JobKind { kPerson, kBackgroundDistractor, kPartialDistractor };

struct Job {
  JobKind kind = JobKind::kPerson;
  const char* split = "train";  // "train", "query" or "gallery"
  MarketName name;
  int person = -1;  // index into World::persons; -1 for background-only distractors
  int camera = 0;   // index into World::cameras
  float yaw_deg = 0.f;
  BodyPose::Kind pose = BodyPose::Kind::kWalk;
  float phase = 0.f;
  float light = 1.f;  // the visit's light factor (passing clouds, lamps switched on)
};

struct World {
  WorldSpec spec;
  uint64_t seed = 0;
  std::vector<CameraSpec> cameras;
  std::vector<cv::Mat> plates;  // per camera, CV_32FC3 RGB
  std::vector<Identity> persons;  // train, test, then distractor people (pid 0)
  std::vector<Job> jobs;
  int train_ids = 0, test_ids = 0;
};

const char* PoseName(BodyPose::Kind kind) {
  switch (kind) {
    case BodyPose::Kind::kStand: return "stand";
    case BodyPose::Kind::kWalk: return "walk";
    case BodyPose::Kind::kCarry: return "carry";
  }
  return "?";
}

float WrapDegrees(float deg) {
  float d = std::fmod(deg, 360.f);
  if (d < 0.f) d += 360.f;
  return d;
}

World PlanWorld(const WorldSpec& spec, uint64_t seed) {
  World world;
  world.spec = spec;
  world.seed = seed;
  const Rng root(seed);
  Rng camera_rng = root.Fork(kCameraStream, 0);
  world.cameras = SampleCameras(spec, camera_rng);
  const int plate_h = spec.crop_height * 5 / 4, plate_w = spec.crop_width * 10;
  for (const CameraSpec& cam : world.cameras) {
    // Steeper cameras see more ground behind the person (pitch 5 deg: horizon at 75% of the plate, 35 deg: 25%).
    const float horizon = 0.75f - 0.5f * (cam.pitch_deg - 5.f) / 30.f;
    // A camera overlooks a street that changes along its width: its own style plus two drawn from all styles,
    // so scenes overlap between cameras and the background alone does not name the camera.
    Rng plate_rng(cam.background_seed);
    std::vector<cv::Mat> segments;
    for (int k = 0; k < 3; ++k) {
      const auto style = k == 0 ? cam.background : static_cast<BackgroundStyle>(plate_rng.UniformInt(0, 5));
      segments.push_back(MakeBackgroundPlate(style, {plate_w / 3, plate_h}, horizon, plate_rng.Next()));
    }
    cv::Mat plate;
    cv::hconcat(segments, plate);
    world.plates.push_back(plate);
  }
  Rng template_rng = root.Fork(kTemplateStream, 0);
  const std::vector<Outfit> templates = SampleOutfitTemplates(spec.num_outfit_templates, template_rng);

  const int num_ids = spec.num_train_ids + spec.num_test_ids;
  std::vector<int> pids(num_ids);
  for (int i = 0; i < num_ids; ++i) pids[i] = i + 1;
  Rng pid_rng = root.Fork(kPidStream, 0);
  pid_rng.Shuffle(pids);  // train and test pids interleave in id space, as in Market-1501
  for (int i = 0; i < num_ids; ++i) {
    Rng person_rng = root.Fork(kPersonStream, i);
    world.persons.push_back(SampleIdentity(pids[i], templates, spec.outfit_colour_jitter, person_rng));
  }
  for (int j = 0; j < spec.num_distractors; ++j) {
    Rng person_rng = root.Fork(kDistractorPersonStream, j);
    world.persons.push_back(SampleIdentity(0, templates, spec.outfit_colour_jitter, person_rng));
  }
  world.train_ids = spec.num_train_ids;
  world.test_ids = spec.num_test_ids;

  // Frame counters per (camera, sequence): strictly increasing, so every name is unique.
  std::map<int, int> frame_counter;
  auto next_frame = [&](int camera, int sequence, Rng& rng) {
    const int key = camera * 16 + sequence;
    auto it = frame_counter.find(key);
    if (it == frame_counter.end()) it = frame_counter.emplace(key, 0).first;
    it->second += rng.UniformInt(3, 40);
    if (it->second > 999999) throw std::runtime_error("WorldSpec: too many images per camera sequence");
    return it->second;
  };

  for (int i = 0; i < num_ids; ++i) {
    const bool test = i >= spec.num_train_ids;
    const Identity& person = world.persons[i];
    Rng visit_rng = root.Fork(kVisitStream, i);
    std::vector<int> cams(spec.num_cameras);
    for (int c = 0; c < spec.num_cameras; ++c) cams[c] = c;
    visit_rng.Shuffle(cams);
    cams.resize(visit_rng.UniformInt(spec.min_cameras_per_id, spec.max_cameras_per_id));
    std::sort(cams.begin(), cams.end());
    for (int c : cams) {
      const CameraSpec& cam = world.cameras[c];
      const int sequence = visit_rng.UniformInt(1, spec.sequences_per_camera);
      const float base_yaw = cam.preferred_yaw_deg + (visit_rng.Bernoulli(spec.reverse_direction_prob) ? 180.f : 0.f) +
                             visit_rng.Normal(0.f, spec.yaw_jitter_deg);
      BodyPose::Kind pose = BodyPose::Kind::kWalk;
      if (person.outfit.bag == BagKind::kHandbag && visit_rng.Bernoulli(0.85f)) {
        pose = BodyPose::Kind::kCarry;
      } else if (visit_rng.Bernoulli(spec.stand_prob)) {
        pose = BodyPose::Kind::kStand;
      }
      int count = visit_rng.UniformInt(spec.min_images_per_camera, spec.max_images_per_camera);
      if (test) count = std::max(count, 2);  // one query per camera plus at least one gallery image there
      const int query_index = test ? visit_rng.UniformInt(0, count - 1) : -1;
      const float phase0 = visit_rng.Unit();
      const float light = std::exp(visit_rng.Normal(0.f, spec.image_light_jitter));
      for (int k = 0; k < count; ++k) {
        Job job;
        job.kind = JobKind::kPerson;
        job.split = !test ? "train" : (k == query_index ? "query" : "gallery");
        job.person = i;
        job.camera = c;
        job.name = {person.pid, cam.camera, sequence, next_frame(c, sequence, visit_rng), 0};
        job.yaw_deg = WrapDegrees(base_yaw + visit_rng.Normal(0.f, 6.f));
        job.pose = pose;
        job.phase = std::fmod(phase0 + 0.37f * k + visit_rng.Uniform(0.f, 0.1f), 1.f);
        job.light = light;
        world.jobs.push_back(job);
      }
    }
  }
  for (int j = 0; j < spec.num_distractors; ++j) {
    Rng rng = root.Fork(kDistractorStream, j);
    Job job;
    job.kind = rng.Bernoulli(0.4f) ? JobKind::kBackgroundDistractor : JobKind::kPartialDistractor;
    job.split = "gallery";
    job.person = job.kind == JobKind::kPartialDistractor ? num_ids + j : -1;
    job.camera = rng.UniformInt(0, spec.num_cameras - 1);
    const int sequence = rng.UniformInt(1, spec.sequences_per_camera);
    job.name = {0, world.cameras[job.camera].camera, sequence, next_frame(job.camera, sequence, rng), 0};
    job.yaw_deg = rng.Uniform(0.f, 360.f);
    job.phase = rng.Unit();
    job.light = std::exp(rng.Normal(0.f, spec.image_light_jitter));
    world.jobs.push_back(job);
  }
  return world;
}

cv::Mat Bgr8ToRgbFloat(const cv::Mat& bgr) {
  cv::Mat rgb, out;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(out, CV_32FC3, 1.0 / 255.0);
  return out;
}

// A soft contact shadow on the ground under the rendered feet.
void DrawContactShadow(cv::Mat& scene, const cv::Mat& mask) {
  int bottom = -1;
  for (int y = mask.rows - 1; y >= 0 && bottom < 0; --y) {
    if (cv::countNonZero(mask.row(y)) > 0) bottom = y;
  }
  if (bottom < 0 || bottom < mask.rows / 3) return;
  const int band_top = std::max(0, bottom - mask.rows / 20);
  const cv::Mat band = mask.rowRange(band_top, bottom + 1);
  double sum_x = 0.0, count = 0.0;
  int min_x = mask.cols, max_x = 0;
  for (int y = 0; y < band.rows; ++y) {
    for (int x = 0; x < band.cols; ++x) {
      if (band.at<uchar>(y, x) > 0) {
        sum_x += x;
        count += 1.0;
        min_x = std::min(min_x, x);
        max_x = std::max(max_x, x);
      }
    }
  }
  if (count == 0.0) return;
  cv::Mat shadow = cv::Mat::zeros(scene.size(), CV_32F);
  const int half_w = std::max(3, (max_x - min_x) * 3 / 4 + mask.cols / 10);
  cv::ellipse(shadow, cv::Point(static_cast<int>(sum_x / count), bottom), cv::Size(half_w, std::max(2, mask.rows / 40)),
              0, 0, 360, cv::Scalar(0.5), cv::FILLED);
  cv::GaussianBlur(shadow, shadow, cv::Size(0, 0), std::max(1.0, mask.rows / 64.0));
  cv::Mat keep = 1.0 - shadow, keep3;
  cv::merge(std::vector<cv::Mat>{keep, keep, keep}, keep3);
  cv::multiply(scene, keep3, scene);
}

struct RenderedImage {
  std::vector<uchar> jpeg;
  std::vector<std::vector<uchar>> structure;  // one JPEG per kStructureYawsDegrees entry
  std::string record;                         // the ground-truth JSON line (without newline)
};

RenderedImage RenderJob(const World& world, const BodyModel& model, size_t job_index) {
  const WorldSpec& spec = world.spec;
  const Job& job = world.jobs[job_index];
  const CameraSpec& cam = world.cameras[job.camera];
  Rng rng = Rng(world.seed).Fork(kRenderStream, job_index);
  const cv::Size crop(spec.crop_width, spec.crop_height);

  const cv::Mat& plate = world.plates[job.camera];
  const int bx = rng.UniformInt(0, plate.cols - crop.width);
  const int by = rng.UniformInt(0, plate.rows - crop.height);
  cv::Mat scene = plate(cv::Rect(cv::Point(bx, by), crop)).clone();

  RenderedImage result;
  float fill = 0.f, dx = 0.f, dy = 0.f;
  bool truncated = false;
  if (job.kind == JobKind::kBackgroundDistractor) {
    // No body: the structure views are blank (white), as a body fit on an empty crop would give nothing.
    const cv::Mat white(crop, CV_8UC1, cv::Scalar(255));
    std::vector<uchar> bytes;
    cv::imencode(".jpg", white, bytes, {cv::IMWRITE_JPEG_QUALITY, 95});
    result.structure.assign(kStructureYawsDegrees.size(), bytes);
  } else {
    const Identity& person = world.persons[job.person];
    BodyPose pose;
    pose.kind = job.pose;
    pose.phase = job.phase;
    pose.carry_side = BodySide::kRight;
    pose.stride = rng.Uniform(0.75f, 1.15f);
    pose.arm_swing = rng.Uniform(0.6f, 1.2f);
    const PosedMesh body = model.Pose(ToBodyShape(person.shape), pose);

    // Detector box: fill, position jitter, and sometimes a box that cuts off the head or the feet.
    fill = rng.Uniform(0.84f, 0.95f);
    dx = rng.Normal(0.f, spec.box_jitter * crop.width);
    dy = rng.Normal(0.f, spec.box_jitter * crop.height * 0.5f);
    if (job.kind == JobKind::kPartialDistractor) {
      fill = rng.Bernoulli(0.5f) ? rng.Uniform(1.6f, 2.6f) : rng.Uniform(0.45f, 0.65f);
      dx += rng.Normal(0.f, 0.25f * crop.width);
      dy += rng.Normal(0.f, 0.3f * crop.height);
    } else if (rng.Bernoulli(spec.truncation_prob)) {
      truncated = true;
      fill = rng.Uniform(1.05f, 1.35f);
      dy += (rng.Bernoulli(0.6f) ? 1.f : -1.f) * rng.Uniform(0.08f, 0.18f) * crop.height;
    }
    Camera camera = FrameBody(body, crop, std::min(fill, 1.f), cam.pitch_deg, cam.distance_m);
    if (fill > 1.f) {
      // FrameBody stops at a full-height fit; a tighter box (cutting the body off) narrows the field of view.
      const float half = 0.5f * camera.vertical_fov_degrees * kPi / 180.f;
      camera.vertical_fov_degrees = 2.f * std::atan(std::tan(half) / fill) * 180.f / kPi;
    }
    camera.yaw_degrees = job.yaw_deg;
    camera.principal_offset = cv::Point2f(dx, dy);

    const float az = cam.light_azimuth_deg * kPi / 180.f, el = cam.light_elevation_deg * kPi / 180.f;
    Lighting lighting;
    lighting.direction = cv::Vec3f(std::sin(az) * std::cos(el), std::sin(el), std::cos(az) * std::cos(el));
    lighting.ambient = cam.ambient;
    lighting.diffuse = 1.f - cam.ambient;
    const DressedBody dressed = DressBody(body, person, model, pose.kind == BodyPose::Kind::kCarry, pose.carry_side);
    const RenderOutput out = Render(dressed.mesh, dressed.colours_bgr, camera, lighting, spec.supersample);
    DrawContactShadow(scene, out.mask);
    cv::Mat alpha, alpha3;
    out.mask.convertTo(alpha, CV_32F, 1.0 / 255.0);
    cv::merge(std::vector<cv::Mat>{alpha, alpha, alpha}, alpha3);
    const cv::Mat person_rgb = Bgr8ToRgbFloat(out.color);
    scene = person_rgb.mul(alpha3) + scene.mul(cv::Scalar::all(1.0) - alpha3);

    for (const cv::Mat& view : StructureViews(body, camera, crop)) {
      std::vector<uchar> bytes;
      if (!cv::imencode(".jpg", view, bytes, {cv::IMWRITE_JPEG_QUALITY, 95})) {
        throw std::runtime_error("cannot encode a structure render of " + FormatMarketName(job.name));
      }
      result.structure.push_back(std::move(bytes));
    }
  }

  Occlusion occlusion;
  if (job.kind != JobKind::kBackgroundDistractor && rng.Bernoulli(spec.occlusion_prob)) {
    occlusion = DrawOccluder(scene, rng);
  }
  // Scene light (camera level, visit level, illuminant tint), then the camera's colour response.
  const float intensity = cam.light_intensity * job.light;
  scene = scene.mul(cv::Scalar(intensity * cam.light_colour[0], intensity * cam.light_colour[1],
                               intensity * cam.light_colour[2]));
  scene = ApplyColourResponse(scene, cam.response);
  Degradation degradation;
  degradation.resolution_scale =
      std::clamp(cam.resolution_scale * rng.Uniform(0.8f, 1.15f), spec.min_resolution_scale, 1.f);
  degradation.blur_sigma = cam.defocus_sigma + (rng.Bernoulli(0.5f) ? rng.Uniform(0.f, spec.max_blur_sigma) : 0.f);
  degradation.noise_sigma = cam.noise_sigma;
  const cv::Mat seen = DegradeImage(scene, degradation, rng);
  const int quality = rng.UniformInt(spec.min_jpeg_quality, spec.max_jpeg_quality);
  result.jpeg = EncodeJpeg(seen, quality);

  const char* kind = job.kind == JobKind::kPerson                ? "person"
                     : job.kind == JobKind::kPartialDistractor   ? "partial_distractor"
                                                                 : "background_distractor";
  char buffer[768];
  std::snprintf(buffer, sizeof(buffer),
                "{\"file\":\"%s\",\"split\":\"%s\",\"kind\":\"%s\",\"pid\":%d,\"camera\":%d,\"sequence\":%d,"
                "\"frame\":%d,\"yaw_deg\":%.2f,\"pose\":\"%s\",\"phase\":%.3f,\"box\":{\"fill\":%.3f,\"dx\":%.2f,"
                "\"dy\":%.2f,\"truncated\":%s},\"occluder\":\"%s\",\"occluded_fraction\":%.3f,\"light\":%.3f,"
                "\"resolution_scale\":%.3f,\"blur_sigma\":%.3f,\"noise_sigma\":%.4f,\"jpeg_quality\":%d",
                FormatMarketName(job.name).c_str(), job.split, kind, job.name.pid, job.name.camera,
                job.name.sequence, job.name.frame, job.yaw_deg, job.kind == JobKind::kBackgroundDistractor ? "none" : PoseName(job.pose),
                job.phase, fill, dx, dy, truncated ? "true" : "false", OccluderKindName(occlusion.kind),
                occlusion.covered_fraction, intensity, degradation.resolution_scale, degradation.blur_sigma,
                degradation.noise_sigma, quality);
  result.record = buffer;
  result.record += ",\"identity\":";
  result.record += job.person >= 0 ? IdentityToJson(world.persons[job.person]) : "null";
  result.record += "}";
  return result;
}

void WriteBytes(const fs::path& path, const std::vector<uchar>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

fs::path ImageFolder(const fs::path& root, const char* split) {
  if (std::string(split) == "train") return root / "bounding_box_train";
  if (std::string(split) == "query") return root / "query";
  return root / "bounding_box_test";
}

fs::path MeshFolder(const fs::path& root, const char* split, int yaw) {
  const char* mesh_split = std::string(split) == "train" ? "train" : "test";
  return root / "mesh" / mesh_split / (yaw == 0 ? std::string("render") : "render_" + std::to_string(yaw));
}

cv::Mat ReadImage(const fs::path& path, int flags) {
  cv::Mat image = cv::imread(path.string(), flags);
  if (image.empty()) throw std::runtime_error("cannot read back " + path.string());
  return image;
}

// Rows: test identities seen by the most cameras. Columns: one crop per camera, then the structure views at
// 0, 90, 180 and 270 degrees of the first crop.
void WriteContactSheet(const World& world, const fs::path& root) {
  const cv::Size crop(world.spec.crop_width, world.spec.crop_height);
  std::map<int, std::map<int, size_t>> first_job;  // person -> camera -> job index
  for (size_t j = 0; j < world.jobs.size(); ++j) {
    const Job& job = world.jobs[j];
    if (job.kind != JobKind::kPerson || std::string(job.split) == "train") continue;
    first_job[job.person].emplace(job.camera, j);
  }
  std::vector<std::pair<int, int>> ranked;  // (-cameras, person)
  for (const auto& [person, cams] : first_job) ranked.push_back({-static_cast<int>(cams.size()), person});
  std::sort(ranked.begin(), ranked.end());
  const int rows = std::min<int>(6, static_cast<int>(ranked.size()));
  const int crop_cols = world.spec.max_cameras_per_id, views = 4, gap = crop.width / 4;
  cv::Mat sheet(crop.height * rows, crop.width * (crop_cols + views) + gap, CV_8UC3, cv::Scalar(40, 40, 40));
  for (int r = 0; r < rows; ++r) {
    const auto& cams = first_job[ranked[r].second];
    int col = 0;
    for (const auto& [camera, j] : cams) {
      if (col >= crop_cols) break;
      const Job& job = world.jobs[j];
      const fs::path file = ImageFolder(root, job.split) / FormatMarketName(job.name);
      ReadImage(file, cv::IMREAD_COLOR).copyTo(sheet(cv::Rect(col * crop.width, r * crop.height, crop.width, crop.height)));
      cv::putText(sheet, "c" + std::to_string(job.name.camera), cv::Point(col * crop.width + 2, r * crop.height + 10),
                  cv::FONT_HERSHEY_PLAIN, 0.7, cv::Scalar(0, 255, 255), 1);
      if (col == 0) {
        for (int v = 0; v < views; ++v) {
          const cv::Mat grey = ReadImage(MeshFolder(root, job.split, v * 90) / FormatMarketName(job.name),
                                         cv::IMREAD_GRAYSCALE);
          cv::Mat colour;
          cv::cvtColor(grey, colour, cv::COLOR_GRAY2BGR);
          colour.copyTo(sheet(cv::Rect(gap + (crop_cols + v) * crop.width, r * crop.height, crop.width, crop.height)));
        }
      }
      ++col;
    }
  }
  if (!cv::imwrite((root / "contact_sheet.png").string(), sheet)) {
    throw std::runtime_error("cannot write " + (root / "contact_sheet.png").string());
  }
}

std::string StampHeader(const WorldSpec& spec, uint64_t seed) {
  return "gcl synthetic world v" + std::to_string(kSyntheticWorldVersion) + "\nseed " + std::to_string(seed) +
         "\nspec " + WorldSpecToText(spec) + "\n";
}

}  // namespace

GenerationSummary GenerateSyntheticDataset(const WorldSpec& spec, uint64_t seed, const std::string& out_dir,
                                           int threads, const GenerationProgress& progress) {
  ValidateWorldSpec(spec);
  const auto start = std::chrono::steady_clock::now();
  const fs::path final_dir = fs::absolute(fs::path(out_dir)).lexically_normal();
  if (fs::exists(final_dir)) {
    throw std::runtime_error("synthetic dataset output " + final_dir.string() + " already exists");
  }
  // Unique per process and call, so concurrent generators (processes or threads) never share a folder.
  static std::atomic<int> call_counter{0};
  const fs::path tmp_dir = final_dir.parent_path() / ("." + final_dir.filename().string() + ".tmp-" +
                                                      std::to_string(::getpid()) + "-" + std::to_string(call_counter++));
  fs::remove_all(tmp_dir);
  try {
    const World world = PlanWorld(spec, seed);
    const BodyModel model = BodyModel::LoadDefault();
    for (const char* split : {"train", "query", "gallery"}) {
      fs::create_directories(ImageFolder(tmp_dir, split));
      for (int yaw : kStructureYawsDegrees) fs::create_directories(MeshFolder(tmp_dir, split, yaw));
    }
    std::vector<std::string> records(world.jobs.size());
    size_t written = 0;
    std::mutex progress_mutex;
    // One image a chunk: render times vary, and the files of an image do not depend on which thread made them.
    ParallelFor(static_cast<int64_t>(world.jobs.size()), threads, /*grain=*/1, [&](int64_t begin, int64_t end, int) {
      for (auto j = static_cast<size_t>(begin); j < static_cast<size_t>(end); ++j) {
        RenderedImage image = RenderJob(world, model, j);
        const Job& job = world.jobs[j];
        const std::string name = FormatMarketName(job.name);
        WriteBytes(ImageFolder(tmp_dir, job.split) / name, image.jpeg);
        for (size_t v = 0; v < kStructureYawsDegrees.size(); ++v) {
          WriteBytes(MeshFolder(tmp_dir, job.split, kStructureYawsDegrees[v]) / name, image.structure[v]);
        }
        records[j] = std::move(image.record);
        if (progress) {
          std::lock_guard<std::mutex> lock(progress_mutex);
          progress(++written, world.jobs.size());
        }
      }
    });

    GenerationSummary summary;
    std::string jsonl;
    for (size_t j = 0; j < world.jobs.size(); ++j) {
      jsonl += records[j] + "\n";
      const Job& job = world.jobs[j];
      const std::string split = job.split;
      if (split == "train") ++summary.train_images;
      else if (split == "query") ++summary.query_images;
      else ++summary.gallery_images;
      if (job.kind != JobKind::kPerson) ++summary.distractor_images;
    }
    WriteText(tmp_dir / "ground_truth.jsonl", jsonl);
    std::string cameras = "[\n";
    for (size_t c = 0; c < world.cameras.size(); ++c) {
      cameras += "  " + CameraSpecToJson(world.cameras[c]) + (c + 1 < world.cameras.size() ? ",\n" : "\n");
    }
    WriteText(tmp_dir / "cameras.json", cameras + "]\n");
    WriteContactSheet(world, tmp_dir);
    summary.train_ids = world.train_ids;
    summary.test_ids = world.test_ids;
    std::ostringstream stamp;
    stamp << StampHeader(spec, seed) << "images train " << summary.train_images << " query " << summary.query_images
          << " gallery " << summary.gallery_images << "\n";
    WriteText(tmp_dir / kStampFile, stamp.str());
    std::error_code rename_error;
    fs::rename(tmp_dir, final_dir, rename_error);
    if (rename_error) {
      throw std::runtime_error("cannot rename " + tmp_dir.string() + " to " + final_dir.string() + ": " +
                               rename_error.message());
    }
    summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return summary;
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp_dir, ignored);
    throw;
  }
}

std::string SyntheticDatasetName(const std::string& preset, uint64_t seed) {
  return "synth_" + preset + "_seed" + std::to_string(seed) + "_v" + std::to_string(kSyntheticWorldVersion);
}

bool IsCompleteSyntheticDataset(const std::string& dataset_dir, const WorldSpec& spec, uint64_t seed) {
  std::ifstream in(fs::path(dataset_dir) / kStampFile, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  const std::string header = StampHeader(spec, seed);
  return text.str().compare(0, header.size(), header) == 0;
}

std::string EnsureSyntheticDataset(const std::string& preset, uint64_t seed, const std::string& cache_dir,
                                   int threads, const GenerationProgress& progress) {
  const WorldSpec spec = WorldSpecForPreset(preset);
  const fs::path dir = fs::absolute(fs::path(cache_dir) / SyntheticDatasetName(preset, seed)).lexically_normal();
  if (fs::exists(dir)) {
    if (IsCompleteSyntheticDataset(dir.string(), spec, seed)) return dir.string();
    throw std::runtime_error("synthetic dataset cache " + dir.string() +
                             " exists but its " + kStampFile + " stamp is missing or does not match preset '" +
                             preset + "', seed " + std::to_string(seed) + "; delete the folder to regenerate it");
  }
  fs::create_directories(fs::path(cache_dir));
  try {
    GenerateSyntheticDataset(spec, seed, dir.string(), threads, progress);
  } catch (const std::exception&) {
    // Another process may have finished the same dataset first; its complete copy is as good as ours.
    if (IsCompleteSyntheticDataset(dir.string(), spec, seed)) return dir.string();
    throw;
  }
  return dir.string();
}

}  // namespace gcl::data

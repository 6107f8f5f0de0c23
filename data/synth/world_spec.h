// The knobs of the synthetic multi-camera person world and its named presets.
//
// A WorldSpec says how many identities and cameras the world has, how each identity is photographed, and how
// hard the photos are (colour shifts, occlusion, truncation, blur, noise, JPEG, low resolution, box jitter).
// The presets are the three sizes the project uses:
//   tiny  - unit tests: a few dozen images, generated in seconds;
//   quick - the default training run on a 2-core CPU: ~130 train identities, a few thousand 128x64 crops,
//           neutral camera colour and mild degradations (hard enough that a colour histogram gets ~6% mAP);
//   hard  - the quick world's size with every difficulty at full strength (the histogram matcher is at chance);
//   bench - benchmarks and longer runs: 256x128 crops (the GCL input size, reference §3), more identities.
//
//   gcl::data::WorldSpec spec = gcl::data::WorldSpecForPreset("quick");
//   spec.num_train_ids = 50;  // any field may be changed before generation
//   gcl::data::ValidateWorldSpec(spec);
#ifndef GCL_DATA_SYNTH_WORLD_SPEC_H_
#define GCL_DATA_SYNTH_WORLD_SPEC_H_

#include <string>
#include <vector>

namespace gcl::data {

struct WorldSpec {
  std::string preset;  // the preset this spec came from (recorded in the dataset stamp)

  // Crop size written to disk. Market-1501 crops are 128x64; GCL resizes to 256x128 (reference §3).
  int crop_height = 128;
  int crop_width = 64;
  int supersample = 2;  // rasterizer anti-aliasing factor

  // Identities. Train and test identities are disjoint; distractors are gallery images with pid 0 ("0000" in
  // Market-1501, kept in the gallery: reference §9).
  int num_train_ids = 130;
  int num_test_ids = 100;
  int num_distractors = 100;

  // Cameras (Market-1501 has 6; its file names allow 1..9).
  int num_cameras = 6;
  int min_cameras_per_id = 2;
  int max_cameras_per_id = 5;
  int min_images_per_camera = 2;
  int max_images_per_camera = 7;
  int sequences_per_camera = 6;  // the "sS" field of Market names

  // Look-alikes: identities draw their outfit from this many templates and only jitter it, so several
  // identities wear nearly the same clothes.
  int num_outfit_templates = 30;
  float outfit_colour_jitter = 0.06f;  // std of the per-identity colour offset around its template (RGB 0..1)

  // Walking direction: each camera has a preferred body yaw (cameras see different sides of people); each
  // image jitters it, and some people walk the other way.
  float yaw_jitter_deg = 25.f;
  float reverse_direction_prob = 0.25f;
  // Pose kinds: people with a handbag are mostly posed carrying it; of the others this fraction stands still,
  // the rest walk.
  float stand_prob = 0.15f;

  // Photometric: strength of the per-camera colour response (0 = identical cameras) and per-image light change.
  float camera_colour_strength = 1.f;
  float image_light_jitter = 0.15f;

  // Degradations, drawn per image.
  float occlusion_prob = 0.3f;        // an occluder (pole, bin, car, another pedestrian) covers part of the body
  float truncation_prob = 0.15f;      // the box cuts off the feet or head
  float box_jitter = 0.08f;           // detector box error, fraction of the box size
  float min_resolution_scale = 0.35f; // the person is seen at this fraction of the crop resolution, then upscaled
  float max_resolution_scale = 1.f;
  float max_blur_sigma = 1.2f;        // Gaussian blur in crop pixels (plus per-camera defocus)
  float max_noise_sigma = 0.05f;      // sensor noise std, image in 0..1
  int min_jpeg_quality = 45;
  int max_jpeg_quality = 90;
};

// The names accepted by WorldSpecForPreset.
std::vector<std::string> PresetNames();

// The spec of a named preset; throws std::runtime_error naming the preset and the known names otherwise.
WorldSpec WorldSpecForPreset(const std::string& preset);

// Throws std::runtime_error naming the first field that is out of range.
void ValidateWorldSpec(const WorldSpec& spec);

// Sets fields from "name=value" pairs separated by commas, e.g. "num_train_ids=50,occlusion_prob=0"
// (names as in WorldSpec, except `preset`). Throws std::runtime_error naming an unknown field or a bad value;
// call ValidateWorldSpec afterwards.
void ApplyWorldSpecOverrides(const std::string& overrides, WorldSpec& spec);

// A canonical text of every field, used to version-stamp generated datasets.
std::string WorldSpecToText(const WorldSpec& spec);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_WORLD_SPEC_H_

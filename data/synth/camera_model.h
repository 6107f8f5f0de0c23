// The cameras of the synthetic world: viewpoint, walking direction, light, colour response and image quality.
//
// Each camera is a fixed installation: it looks down at a fixed pitch from a fixed distance, people pass it
// mostly in one direction (so cameras see different sides of the same person: the preferred yaws are spread
// around the circle), it has its own scene (background plate), light and a colour response (white balance,
// channel crosstalk, tone curve, saturation) that shifts clothing colours strongly between cameras.
//
//   gcl::data::Rng rng(seed);
//   std::vector<gcl::data::CameraSpec> cams = gcl::data::SampleCameras(spec, rng);
//   cv::Mat seen = gcl::data::ApplyColourResponse(scene_rgb, cams[0].response);
#ifndef GCL_DATA_SYNTH_CAMERA_MODEL_H_
#define GCL_DATA_SYNTH_CAMERA_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/synth/rng.h"
#include "data/synth/world_spec.h"

namespace gcl::data {

struct ColourResponse {
  cv::Matx33f mix = cv::Matx33f::eye();  // RGB crosstalk, rows sum to ~1
  cv::Vec3f gain{1.f, 1.f, 1.f};        // white balance
  cv::Vec3f gamma{1.f, 1.f, 1.f};       // per-channel tone-curve exponent
  float saturation = 1.f;
  float contrast = 1.f;
  float black_level = 0.f;               // lifted blacks (haze, cheap sensor)
};

enum class BackgroundStyle { kPavement, kPark, kBrickWall, kShopFront, kRoad, kIndoor };
const char* BackgroundStyleName(BackgroundStyle style);

struct CameraSpec {
  int camera = 1;                // 1-based, as in Market names
  float pitch_deg = 15.f;        // the camera looks down by this angle
  float distance_m = 8.f;        // camera to person
  float preferred_yaw_deg = 0.f; // body yaw seen most often (0 = the person faces the camera)
  ColourResponse response;
  float light_intensity = 1.f;   // overall scene brightness
  cv::Vec3f light_colour{1.f, 1.f, 1.f};  // illuminant tint (RGB)
  float light_azimuth_deg = 30.f;         // key light direction around the person
  float light_elevation_deg = 45.f;
  float ambient = 0.4f;
  BackgroundStyle background = BackgroundStyle::kPavement;
  uint64_t background_seed = 0;
  float defocus_sigma = 0.f;     // blur of this camera's optics, crop pixels
  float noise_sigma = 0.01f;     // sensor noise, image in 0..1
  float resolution_scale = 1.f;  // typical fraction of crop resolution this camera resolves the person at
};

// `spec.num_cameras` cameras with spread preferred yaws and strong differences in colour response, light level
// and illuminant tint (all three scaled by camera_colour_strength; 0 gives neutral, equally lit cameras).
std::vector<CameraSpec> SampleCameras(const WorldSpec& spec, Rng& rng);

// Maps a scene image (CV_32FC3, RGB, 0..1) to what the camera records (CV_32FC3, RGB, clamped to 0..1).
cv::Mat ApplyColourResponse(const cv::Mat& scene_rgb, const ColourResponse& response);

// A JSON object describing the camera (used by the dataset's cameras.json).
std::string CameraSpecToJson(const CameraSpec& camera);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_CAMERA_MODEL_H_

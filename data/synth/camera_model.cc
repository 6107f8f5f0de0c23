#include "data/synth/camera_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace gcl::data {

const char* BackgroundStyleName(BackgroundStyle style) {
  switch (style) {
    case BackgroundStyle::kPavement: return "pavement";
    case BackgroundStyle::kPark: return "park";
    case BackgroundStyle::kBrickWall: return "brick_wall";
    case BackgroundStyle::kShopFront: return "shop_front";
    case BackgroundStyle::kRoad: return "road";
    case BackgroundStyle::kIndoor: return "indoor";
  }
  return "?";
}

std::vector<CameraSpec> SampleCameras(const WorldSpec& spec, Rng& rng) {
  const int n = spec.num_cameras;
  const float s = spec.camera_colour_strength;
  // Preferred yaws spread evenly around the circle, then dealt to cameras in random order, so neighbouring
  // camera numbers do not see neighbouring sides.
  std::vector<float> yaws;
  const float offset = rng.Uniform(0.f, 360.f);
  for (int k = 0; k < n; ++k) yaws.push_back(std::fmod(offset + 360.f * k / n + rng.Uniform(-10.f, 10.f), 360.f));
  rng.Shuffle(yaws);
  std::vector<int> styles;
  for (int k = 0; k < n; ++k) styles.push_back(k % 6);
  rng.Shuffle(styles);

  std::vector<CameraSpec> cameras;
  for (int k = 0; k < n; ++k) {
    CameraSpec c;
    c.camera = k + 1;
    c.pitch_deg = rng.Uniform(5.f, 35.f);
    c.distance_m = rng.Uniform(5.f, 15.f);
    c.preferred_yaw_deg = yaws[k];

    ColourResponse& r = c.response;
    for (int i = 0; i < 3; ++i) {
      r.gain[i] = std::exp(rng.Normal(0.f, 0.18f * s));
      r.gamma[i] = std::exp(rng.Normal(0.f, 0.12f * s));
      float row_sum = 0.f;
      for (int j = 0; j < 3; ++j) {
        r.mix(i, j) = (i == j ? 1.f : 0.f) + (i == j ? 0.f : rng.Normal(0.f, 0.08f * s));
        row_sum += r.mix(i, j);
      }
      for (int j = 0; j < 3; ++j) r.mix(i, j) /= row_sum;
    }
    r.saturation = std::clamp(std::exp(rng.Normal(0.f, 0.3f * s)), 0.35f, 1.7f);
    r.contrast = std::clamp(1.f + rng.Normal(0.f, 0.15f * s), 0.6f, 1.4f);
    r.black_level = rng.Uniform(0.f, 0.08f * s);

    c.light_intensity = std::clamp(std::exp(rng.Normal(0.f, 0.3f * s)), 0.5f, 1.4f);
    const float warmth = rng.Uniform(-1.f, 1.f) * std::min(s, 1.f);
    c.light_colour = warmth >= 0.f ? cv::Vec3f(1.f, 1.f - 0.12f * warmth, 1.f - 0.3f * warmth)
                                   : cv::Vec3f(1.f + 0.2f * warmth, 1.f + 0.05f * warmth, 1.f);
    c.light_azimuth_deg = rng.Uniform(-180.f, 180.f);
    c.light_elevation_deg = rng.Uniform(20.f, 75.f);
    c.ambient = rng.Uniform(0.25f, 0.6f);
    c.background = static_cast<BackgroundStyle>(styles[k]);
    c.background_seed = rng.Next();
    c.defocus_sigma = rng.Uniform(0.f, 0.6f * spec.max_blur_sigma);
    c.noise_sigma = rng.Uniform(0.2f, 1.f) * spec.max_noise_sigma;
    c.resolution_scale = rng.Uniform(spec.min_resolution_scale, spec.max_resolution_scale);
    cameras.push_back(c);
  }
  return cameras;
}

cv::Mat ApplyColourResponse(const cv::Mat& scene_rgb, const ColourResponse& r) {
  if (scene_rgb.type() != CV_32FC3) {
    throw std::invalid_argument("ApplyColourResponse: the scene image must be CV_32FC3 RGB");
  }
  cv::Mat out(scene_rgb.size(), CV_32FC3);
  for (int y = 0; y < scene_rgb.rows; ++y) {
    const cv::Vec3f* in_row = scene_rgb.ptr<cv::Vec3f>(y);
    cv::Vec3f* out_row = out.ptr<cv::Vec3f>(y);
    for (int x = 0; x < scene_rgb.cols; ++x) {
      cv::Vec3f v = r.mix * in_row[x];
      for (int i = 0; i < 3; ++i) {
        v[i] = std::pow(std::max(v[i] * r.gain[i], 0.f), r.gamma[i]);
      }
      const float luma = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
      for (int i = 0; i < 3; ++i) {
        float value = luma + r.saturation * (v[i] - luma);
        value = 0.5f + r.contrast * (value - 0.5f);
        value = r.black_level + (1.f - r.black_level) * value;
        out_row[x][i] = std::clamp(value, 0.f, 1.f);
      }
    }
  }
  return out;
}

std::string CameraSpecToJson(const CameraSpec& c) {
  const ColourResponse& r = c.response;
  char buffer[1024];
  std::snprintf(
      buffer, sizeof(buffer),
      "{\"camera\":%d,\"pitch_deg\":%.2f,\"distance_m\":%.2f,\"preferred_yaw_deg\":%.2f,"
      "\"response\":{\"mix\":[%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f],\"gain\":[%.3f,%.3f,%.3f],"
      "\"gamma\":[%.3f,%.3f,%.3f],\"saturation\":%.3f,\"contrast\":%.3f,\"black_level\":%.3f},"
      "\"light_intensity\":%.3f,\"light_colour\":[%.3f,%.3f,%.3f],\"light_azimuth_deg\":%.1f,"
      "\"light_elevation_deg\":%.1f,\"ambient\":%.3f,\"background\":\"%s\",\"defocus_sigma\":%.3f,"
      "\"noise_sigma\":%.4f,\"resolution_scale\":%.3f}",
      c.camera, c.pitch_deg, c.distance_m, c.preferred_yaw_deg, r.mix(0, 0), r.mix(0, 1), r.mix(0, 2), r.mix(1, 0),
      r.mix(1, 1), r.mix(1, 2), r.mix(2, 0), r.mix(2, 1), r.mix(2, 2), r.gain[0], r.gain[1], r.gain[2], r.gamma[0],
      r.gamma[1], r.gamma[2], r.saturation, r.contrast, r.black_level, c.light_intensity, c.light_colour[0],
      c.light_colour[1], c.light_colour[2], c.light_azimuth_deg, c.light_elevation_deg, c.ambient,
      BackgroundStyleName(c.background), c.defocus_sigma, c.noise_sigma, c.resolution_scale);
  return buffer;
}

}  // namespace gcl::data

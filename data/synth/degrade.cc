#include "data/synth/degrade.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace gcl::data {
namespace {

cv::Scalar RandomColour(Rng& rng) {
  const float grey = rng.Uniform(0.05f, 0.8f);
  return cv::Scalar(std::clamp(grey + rng.Normal(0.f, 0.15f), 0.f, 1.f),
                    std::clamp(grey + rng.Normal(0.f, 0.15f), 0.f, 1.f),
                    std::clamp(grey + rng.Normal(0.f, 0.15f), 0.f, 1.f));
}

void CheckImage(const cv::Mat& rgb, const char* where) {
  if (rgb.type() != CV_32FC3 || rgb.empty()) {
    throw std::invalid_argument(std::string(where) + ": expected a non-empty CV_32FC3 RGB image");
  }
}

}  // namespace

const char* OccluderKindName(OccluderKind kind) {
  switch (kind) {
    case OccluderKind::kNone: return "none";
    case OccluderKind::kPole: return "pole";
    case OccluderKind::kObstacle: return "obstacle";
    case OccluderKind::kPedestrian: return "pedestrian";
  }
  return "?";
}

Occlusion DrawOccluder(cv::Mat& rgb, Rng& rng) {
  CheckImage(rgb, "DrawOccluder");
  const int w = rgb.cols, h = rgb.rows;
  cv::Mat mask = cv::Mat::zeros(rgb.size(), CV_8U);
  Occlusion occlusion;
  occlusion.kind = static_cast<OccluderKind>(1 + rng.Choice({1.f, 1.5f, 1.5f}));
  const cv::Scalar colour = RandomColour(rng);
  switch (occlusion.kind) {
    case OccluderKind::kPole: {
      const int pole_w = std::max(2, static_cast<int>(w * rng.Uniform(0.08f, 0.2f)));
      const int x = rng.UniformInt(0, w - pole_w);
      cv::rectangle(mask, cv::Rect(x, 0, pole_w, h), 255, cv::FILLED);
      break;
    }
    case OccluderKind::kObstacle: {
      const int top = static_cast<int>(h * rng.Uniform(0.55f, 0.8f));
      const int left = rng.Bernoulli(0.5f) ? 0 : rng.UniformInt(0, w / 3);
      const int right = rng.Bernoulli(0.5f) ? w : rng.UniformInt(2 * w / 3, w);
      cv::rectangle(mask, cv::Rect(left, top, std::max(1, right - left), h - top), 255, cv::FILLED);
      break;
    }
    case OccluderKind::kPedestrian: {
      // Another person passing close to the camera at one side of the crop: torso, head and legs as ellipses.
      const bool left_side = rng.Bernoulli(0.5f);
      const int cx = left_side ? static_cast<int>(w * rng.Uniform(-0.15f, 0.15f))
                               : static_cast<int>(w * rng.Uniform(0.85f, 1.15f));
      const int body_w = static_cast<int>(w * rng.Uniform(0.35f, 0.55f));
      cv::ellipse(mask, cv::Point(cx, static_cast<int>(h * 0.42f)), cv::Size(body_w / 2, h / 5), 0, 0, 360, 255,
                  cv::FILLED);
      cv::circle(mask, cv::Point(cx, static_cast<int>(h * 0.15f)), std::max(2, body_w / 4), 255, cv::FILLED);
      cv::rectangle(mask, cv::Rect(cx - body_w / 3, static_cast<int>(h * 0.55f), body_w * 2 / 3, h), 255,
                    cv::FILLED);
      break;
    }
    case OccluderKind::kNone: break;
  }
  cv::Mat layer(rgb.size(), CV_32FC3, colour);
  if (occlusion.kind == OccluderKind::kPedestrian) {
    // Two-tone clothes: a different colour below the waist.
    layer(cv::Rect(0, static_cast<int>(h * 0.55f), w, h - static_cast<int>(h * 0.55f))).setTo(RandomColour(rng));
  }
  // Soft shading across the occluder so it is not a flat sticker.
  for (int x = 0; x < w; ++x) {
    const float f = 0.8f + 0.4f * static_cast<float>(x) / std::max(1, w - 1);
    cv::Mat column = layer.col(x);
    column *= f;
  }
  layer.copyTo(rgb, mask);
  occlusion.covered_fraction = static_cast<float>(cv::countNonZero(mask)) / static_cast<float>(w * h);
  return occlusion;
}

cv::Mat DegradeImage(const cv::Mat& rgb, const Degradation& d, Rng& rng) {
  CheckImage(rgb, "DegradeImage");
  cv::Mat out = rgb.clone();
  if (d.resolution_scale < 0.999f) {
    const cv::Size small(std::max(4, static_cast<int>(std::lround(rgb.cols * d.resolution_scale))),
                         std::max(4, static_cast<int>(std::lround(rgb.rows * d.resolution_scale))));
    cv::Mat low;
    cv::resize(out, low, small, 0, 0, cv::INTER_AREA);
    cv::resize(low, out, rgb.size(), 0, 0, cv::INTER_LINEAR);
  }
  if (d.blur_sigma > 0.05f) cv::GaussianBlur(out, out, cv::Size(0, 0), d.blur_sigma);
  if (d.noise_sigma > 0.f) {
    cv::RNG noise_rng(rng.Next() | 1);
    cv::Mat noise(out.size(), CV_32FC3);
    noise_rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0.0), cv::Scalar::all(1.0));
    // Sensor noise grows with brightness (shot noise) on top of a floor (read noise).
    cv::Mat scale;
    cv::sqrt(cv::max(out, 0.0) + 0.05, scale);
    cv::multiply(noise, scale, noise, d.noise_sigma);
    out += noise;
  }
  cv::min(cv::max(out, 0.0), 1.0, out);
  return out;
}

cv::Mat ToBgr8(const cv::Mat& rgb) {
  CheckImage(rgb, "ToBgr8");
  cv::Mat bgr, out;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  bgr.convertTo(out, CV_8UC3, 255.0);
  return out;
}

std::vector<uchar> EncodeJpeg(const cv::Mat& rgb, int quality) {
  if (quality < 1 || quality > 100) throw std::invalid_argument("EncodeJpeg: quality must be in [1, 100]");
  std::vector<uchar> bytes;
  if (!cv::imencode(".jpg", ToBgr8(rgb), bytes, {cv::IMWRITE_JPEG_QUALITY, quality})) {
    throw std::runtime_error("EncodeJpeg: OpenCV could not encode the image");
  }
  return bytes;
}

}  // namespace gcl::data

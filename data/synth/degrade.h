// Image degradations of surveillance crops: occluders, low resolution, blur, sensor noise and JPEG.
//
// Images are CV_32FC3 RGB in [0, 1] until EncodeJpeg turns them into file bytes. Every random choice comes
// from the caller's Rng, so a seeded image is reproducible.
//
//   gcl::data::Occlusion occ = gcl::data::DrawOccluder(image, rng);   // before the camera response
//   cv::Mat seen = gcl::data::DegradeImage(image, {0.5f, 0.8f, 0.02f}, rng);
//   std::vector<uchar> bytes = gcl::data::EncodeJpeg(seen, 70);
#ifndef GCL_DATA_SYNTH_DEGRADE_H_
#define GCL_DATA_SYNTH_DEGRADE_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/synth/rng.h"

namespace gcl::data {

enum class OccluderKind { kNone, kPole, kObstacle, kPedestrian };
const char* OccluderKindName(OccluderKind kind);

struct Occlusion {
  OccluderKind kind = OccluderKind::kNone;
  float covered_fraction = 0.f;  // of the crop area
};

// Draws a random occluder (a pole, a low obstacle such as a bin or car bonnet, or another pedestrian passing in
// front) into `rgb` in place and reports what was drawn.
Occlusion DrawOccluder(cv::Mat& rgb, Rng& rng);

struct Degradation {
  float resolution_scale = 1.f;  // the image is resampled to this fraction of its size and back
  float blur_sigma = 0.f;        // Gaussian blur, pixels of the output
  float noise_sigma = 0.f;       // additive Gaussian noise (plus a little shot noise), in 0..1 units
};

// Returns the degraded image (CV_32FC3, clamped to 0..1).
cv::Mat DegradeImage(const cv::Mat& rgb, const Degradation& degradation, Rng& rng);

// 8-bit BGR conversion and JPEG encoding at `quality` (OpenCV's encoder is deterministic).
std::vector<uchar> EncodeJpeg(const cv::Mat& rgb, int quality);

// Float RGB [0,1] -> 8-bit BGR for OpenCV's writers.
cv::Mat ToBgr8(const cv::Mat& rgb);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_DEGRADE_H_

#include "data/footage/person_detector.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <opencv2/imgproc.hpp>

namespace gcl::data {

std::string HogOptionsToText(const HogOptions& options) {
  std::ostringstream text;
  text.precision(12);  // readable in the stamp, and finer than any setting anyone would tell apart
  text << "upscale " << options.upscale << " scale_step " << options.scale_step << " levels " << options.levels
       << " window_stride " << options.window_stride << " hit_threshold " << options.hit_threshold << " merge_iou "
       << options.merge_iou << " min_support " << options.min_support;
  return text.str();
}

void ValidateHogOptions(const HogOptions& options) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("HogOptions." + what); };
  if (!(options.upscale >= 0.25 && options.upscale <= 8.0)) fail("upscale must lie in [0.25, 8]");
  if (!(options.scale_step > 1.0 && options.scale_step <= 2.0)) fail("scale_step must lie in (1, 2]");
  if (options.levels < 1 || options.levels > 64) fail("levels must lie in [1, 64]");
  if (options.window_stride < 1 || options.window_stride % 8 != 0) {
    fail("window_stride must be a positive multiple of 8 (the HOG cell size)");
  }
  if (!(options.merge_iou > 0.0 && options.merge_iou < 1.0)) fail("merge_iou must lie in (0, 1)");
  if (options.min_support < 1) fail("min_support must be >= 1");
}

double IntersectionOverUnion(const cv::Rect2d& a, const cv::Rect2d& b) {
  const double inter = (a & b).area();
  const double uni = a.area() + b.area() - inter;
  return uni > 0.0 ? inter / uni : 0.0;
}

std::vector<Detection> MergeWindows(std::vector<Detection> windows, double merge_iou, int min_support) {
  // A total order, so equal scores never leave the result to the input's order.
  std::sort(windows.begin(), windows.end(), [](const Detection& a, const Detection& b) {
    return std::make_tuple(-a.score, a.box.y, a.box.x, a.box.height, a.box.width) <
           std::make_tuple(-b.score, b.box.y, b.box.x, b.box.height, b.box.width);
  });
  std::vector<bool> taken(windows.size(), false);
  std::vector<Detection> merged;
  for (size_t i = 0; i < windows.size(); ++i) {
    if (taken[i]) continue;
    double weight_sum = 0.0, x = 0.0, y = 0.0, w = 0.0, h = 0.0;
    int count = 0;
    for (size_t j = i; j < windows.size(); ++j) {
      if (taken[j] || (j != i && IntersectionOverUnion(windows[i].box, windows[j].box) <= merge_iou)) continue;
      taken[j] = true;
      const double weight = std::max(windows[j].score, 1e-3);
      weight_sum += weight;
      x += weight * windows[j].box.x;
      y += weight * windows[j].box.y;
      w += weight * windows[j].box.width;
      h += weight * windows[j].box.height;
      ++count;
    }
    if (count < min_support) continue;
    Detection d;
    d.box = cv::Rect2d(x / weight_sum, y / weight_sum, w / weight_sum, h / weight_sum);
    d.score = windows[i].score;
    d.support = count;
    merged.push_back(d);
  }
  return merged;
}

HogPersonDetector::HogPersonDetector(const HogOptions& options) : options_(options) {
  ValidateHogOptions(options_);
  hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  hog_.nlevels = options_.levels;
}

std::vector<Detection> HogPersonDetector::Detect(const cv::Mat& frame_bgr) const {
  if (frame_bgr.empty() || frame_bgr.type() != CV_8UC3) {
    throw std::invalid_argument("HogPersonDetector::Detect: expected a non-empty 8-bit BGR frame");
  }
  cv::Mat scaled;
  if (options_.upscale == 1.0) {
    scaled = frame_bgr;
  } else {
    cv::resize(frame_bgr, scaled, cv::Size(), options_.upscale, options_.upscale,
               options_.upscale > 1.0 ? cv::INTER_LINEAR : cv::INTER_AREA);
  }
  std::vector<cv::Rect> found;
  std::vector<double> weights;
  // groupThreshold 0: every raw window comes back, MergeWindows groups them.
  hog_.detectMultiScale(scaled, found, weights, options_.hit_threshold,
                        cv::Size(options_.window_stride, options_.window_stride), cv::Size(0, 0),
                        options_.scale_step, /*groupThreshold=*/0.0, /*useMeanshiftGrouping=*/false);
  std::vector<Detection> windows(found.size());
  const double inverse = 1.0 / options_.upscale;
  for (size_t i = 0; i < found.size(); ++i) {
    windows[i].box = cv::Rect2d(found[i].x * inverse, found[i].y * inverse, found[i].width * inverse,
                                found[i].height * inverse);
    windows[i].score = i < weights.size() ? weights[i] : 0.0;
  }
  return MergeWindows(std::move(windows), options_.merge_iou, options_.min_support);
}

}  // namespace gcl::data

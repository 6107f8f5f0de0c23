#include "data/synth/hist_matcher.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/synth/market_naming.h"

namespace gcl::data {
namespace {

constexpr int kStripes = 6;
constexpr int kHueBins = 8, kSatBins = 3, kValBins = 3, kGreyBins = 4;
constexpr int kBinsPerStripe = kHueBins * kSatBins * kValBins + kGreyBins;

struct LoadedSplit {
  clustering::ReidLabels labels;
  std::vector<std::vector<float>> features;
};

LoadedSplit LoadSplit(const std::filesystem::path& folder) {
  if (!std::filesystem::is_directory(folder)) {
    throw std::runtime_error("histogram baseline: folder " + folder.string() + " does not exist");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() == ".jpg") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error("histogram baseline: no .jpg images in " + folder.string());
  LoadedSplit split;
  for (const auto& file : files) {
    const MarketName name = ParseMarketName(file.filename().string());
    if (name.pid < 0) continue;  // junk images are not evaluated (reference section 9)
    const cv::Mat image = cv::imread(file.string(), cv::IMREAD_COLOR);
    if (image.empty()) throw std::runtime_error("histogram baseline: cannot read image " + file.string());
    split.labels.pids.push_back(name.pid);
    split.labels.camids.push_back(name.camera);
    split.features.push_back(ColourHistogramFeature(image));
  }
  return split;
}

}  // namespace

std::vector<float> ColourHistogramFeature(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    throw std::invalid_argument("ColourHistogramFeature: expected a non-empty 8-bit BGR image");
  }
  cv::Mat hsv;
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);  // H in [0, 180), S and V in [0, 255]
  std::vector<float> feature(kStripes * kBinsPerStripe, 0.f);
  for (int y = 0; y < hsv.rows; ++y) {
    const int stripe = std::min(kStripes - 1, y * kStripes / hsv.rows);
    float* hist = feature.data() + stripe * kBinsPerStripe;
    const cv::Vec3b* px = hsv.ptr<cv::Vec3b>(y);
    for (int x = hsv.cols / 8; x < hsv.cols - hsv.cols / 8; ++x) {
      const int h = px[x][0], s = px[x][1], v = px[x][2];
      if (s < 40 || v < 30) {
        hist[kHueBins * kSatBins * kValBins + std::min(kGreyBins - 1, v * kGreyBins / 256)] += 1.f;
      } else {
        const int hb = std::min(kHueBins - 1, h * kHueBins / 180);
        const int sb = std::min(kSatBins - 1, (s - 40) * kSatBins / 216);
        const int vb = std::min(kValBins - 1, (v - 30) * kValBins / 226);
        hist[(hb * kSatBins + sb) * kValBins + vb] += 1.f;
      }
    }
  }
  for (int s = 0; s < kStripes; ++s) {
    float* hist = feature.data() + s * kBinsPerStripe;
    const float total = std::accumulate(hist, hist + kBinsPerStripe, 0.f);
    for (int b = 0; b < kBinsPerStripe; ++b) hist[b] = total > 0.f ? std::sqrt(hist[b] / total) : 0.f;
  }
  return feature;
}

float HistogramDistance(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("HistogramDistance: feature sizes differ");
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return static_cast<float>(std::sqrt(sum));
}

clustering::ReidMetrics EvaluateHistogramBaseline(const std::string& dataset_dir) {
  const std::filesystem::path root(dataset_dir);
  const LoadedSplit query = LoadSplit(root / "query");
  const LoadedSplit gallery = LoadSplit(root / "bounding_box_test");
  const size_t num_gallery = gallery.features.size();
  std::vector<float> distance(query.features.size() * num_gallery);
  for (size_t q = 0; q < query.features.size(); ++q) {
    for (size_t g = 0; g < num_gallery; ++g) {
      distance[q * num_gallery + g] = HistogramDistance(query.features[q], gallery.features[g]);
    }
  }
  return clustering::EvaluateDistanceMatrix(distance.data(), query.labels, gallery.labels);
}

}  // namespace gcl::data

#include "evaluation/hist_matcher.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/synth/market_naming.h"

namespace gcl::evaluation {

using data::MarketName;
using data::ParseMarketName;
namespace {

std::vector<std::vector<float>> Features(const std::vector<std::string>& paths, const HistogramDescriptor& d) {
  std::vector<std::vector<float>> features;
  features.reserve(paths.size());
  for (const std::string& path : paths) {
    const cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
    if (image.empty()) throw std::runtime_error("histogram baseline: cannot read image " + path);
    features.push_back(ColourHistogramFeature(image, d));
  }
  return features;
}

void ListMarketFolder(const std::filesystem::path& folder, std::vector<std::string>* paths,
                      evaluation::ReidLabels* labels) {
  if (!std::filesystem::is_directory(folder)) {
    throw std::runtime_error("histogram baseline: folder " + folder.string() + " does not exist");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() == ".jpg") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error("histogram baseline: no .jpg images in " + folder.string());
  for (const auto& file : files) {
    const MarketName name = ParseMarketName(file.filename().string());
    if (name.pid < 0) continue;  // junk images are not evaluated (Market protocol, docs/evaluation.md)
    paths->push_back(file.string());
    labels->pids.push_back(name.pid);
    labels->camids.push_back(name.camera);
  }
}

}  // namespace

std::vector<HistogramDescriptor> NamedHistogramDescriptors() {
  HistogramDescriptor half;
  half.name = "hsv16x4x4_half";
  HistogramDescriptor first;
  first.name = "hsv8x3x3+grey_3q";
  first.central_fraction = 0.75;
  first.hue_bins = 8;
  first.sat_bins = 3;
  first.val_bins = 3;
  first.grey_bins = 4;
  HistogramDescriptor whole = half;
  whole.name = "hsv16x4x4_whole";
  whole.central_fraction = 1.0;
  return {half, first, whole};
}

HistogramDescriptor HistogramDescriptorByName(const std::string& name) {
  std::string known;
  for (const HistogramDescriptor& d : NamedHistogramDescriptors()) {
    if (d.name == name) return d;
    known += (known.empty() ? "" : ", ") + d.name;
  }
  throw std::invalid_argument("unknown histogram descriptor '" + name + "' (known: " + known + ")");
}

std::vector<float> ColourHistogramFeature(const cv::Mat& bgr, const HistogramDescriptor& d) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    throw std::invalid_argument("ColourHistogramFeature: expected a non-empty 8-bit BGR image");
  }
  if (d.stripes <= 0 || d.hue_bins <= 0 || d.sat_bins <= 0 || d.val_bins <= 0 || d.grey_bins < 0 ||
      !(d.central_fraction > 0.0 && d.central_fraction <= 1.0)) {
    throw std::invalid_argument("ColourHistogramFeature: descriptor '" + d.name + "' has a non-positive size");
  }
  cv::Mat hsv;
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);  // H in [0, 180), S and V in [0, 255]
  const int bins = d.BinsPerStripe();
  const int colour_bins = d.hue_bins * d.sat_bins * d.val_bins;
  const int kept = std::max(1, static_cast<int>(std::lround(hsv.cols * d.central_fraction)));
  const int x0 = (hsv.cols - kept) / 2;
  const int s0 = d.grey_bins > 0 ? d.grey_max_saturation : 0, v0 = d.grey_bins > 0 ? d.grey_max_value : 0;
  std::vector<float> feature(static_cast<size_t>(d.stripes) * bins, 0.f);
  int stripe = 0;
  for (int y = 0; y < hsv.rows; ++y) {
    // Stripe s covers rows [floor(s * rows / stripes), floor((s + 1) * rows / stripes)).
    while (stripe + 1 < d.stripes && y >= (stripe + 1) * hsv.rows / d.stripes) ++stripe;
    float* hist = feature.data() + static_cast<size_t>(stripe) * bins;
    const cv::Vec3b* px = hsv.ptr<cv::Vec3b>(y);
    for (int x = x0; x < x0 + kept; ++x) {
      const int h = px[x][0], s = px[x][1], v = px[x][2];
      if (d.grey_bins > 0 && (s < s0 || v < v0)) {
        hist[colour_bins + std::min(d.grey_bins - 1, v * d.grey_bins / 256)] += 1.f;
      } else {
        const int hb = std::min(d.hue_bins - 1, h * d.hue_bins / 180);
        const int sb = std::min(d.sat_bins - 1, (s - s0) * d.sat_bins / (256 - s0));
        const int vb = std::min(d.val_bins - 1, (v - v0) * d.val_bins / (256 - v0));
        hist[(hb * d.sat_bins + sb) * d.val_bins + vb] += 1.f;
      }
    }
  }
  for (int s = 0; s < d.stripes; ++s) {
    float* hist = feature.data() + static_cast<size_t>(s) * bins;
    const float total = std::accumulate(hist, hist + bins, 0.f);
    for (int b = 0; b < bins; ++b) hist[b] = total > 0.f ? std::sqrt(hist[b] / total) : 0.f;
  }
  return feature;
}

float HistogramDistance(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("HistogramDistance: feature sizes differ");
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return static_cast<float>(std::sqrt(sum));
}

evaluation::ReidMetrics EvaluateHistogramBaseline(const std::vector<std::string>& query_paths,
                                                  const evaluation::ReidLabels& query,
                                                  const std::vector<std::string>& gallery_paths,
                                                  const evaluation::ReidLabels& gallery,
                                                  const HistogramDescriptor& descriptor) {
  if (query_paths.size() != query.pids.size() || gallery_paths.size() != gallery.pids.size()) {
    throw std::invalid_argument("EvaluateHistogramBaseline: paths and labels differ in length");
  }
  const std::vector<std::vector<float>> q = Features(query_paths, descriptor);
  const std::vector<std::vector<float>> g = Features(gallery_paths, descriptor);
  std::vector<float> distance(q.size() * g.size());
  for (size_t i = 0; i < q.size(); ++i) {
    for (size_t j = 0; j < g.size(); ++j) distance[i * g.size() + j] = HistogramDistance(q[i], g[j]);
  }
  return evaluation::EvaluateDistanceMatrix(distance.data(), query, gallery);
}

evaluation::ReidMetrics EvaluateHistogramBaseline(const std::string& dataset_dir,
                                                  const HistogramDescriptor& descriptor) {
  const std::filesystem::path root(dataset_dir);
  std::vector<std::string> query_paths, gallery_paths;
  evaluation::ReidLabels query, gallery;
  ListMarketFolder(root / "query", &query_paths, &query);
  ListMarketFolder(root / "bounding_box_test", &gallery_paths, &gallery);
  return EvaluateHistogramBaseline(query_paths, query, gallery_paths, gallery, descriptor);
}

}  // namespace gcl::evaluation

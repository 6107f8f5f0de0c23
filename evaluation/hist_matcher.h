// Colour-histogram re-identification baselines: no learning, only colour distributions in horizontal stripes.
//
// They calibrate how hard a dataset is and are the bar a learned model must clear: a matcher that only compares
// colours should do poorly when cameras shift colours, people share outfits and the sides seen differ. Each
// descriptor cuts the central columns of the crop (detection boxes centre the person; the sides are mostly
// background) into horizontal stripes, takes an HSV histogram per stripe, L1-normalises each stripe and
// square-roots it, so that the Euclidean distance between two features is a monotone function of the sum of the
// stripes' Bhattacharyya coefficients (the Bhattacharyya / Hellinger distance). The metrics are the project's
// (evaluation/reid_metrics.h, Market protocol: same pid AND same camera gallery items dropped per query).
//
//   for (const gcl::evaluation::HistogramDescriptor& d : gcl::evaluation::NamedHistogramDescriptors()) {
//     gcl::evaluation::ReidMetrics m = gcl::evaluation::EvaluateHistogramBaseline("/data/synth_quick", d);
//     std::printf("%s: mAP %.1f%%\n", d.name.c_str(), 100 * m.map);
//   }
//
// Not a general ReID evaluator for learned features (see clustering/ for the project's metrics on tensors).
#ifndef GCL_EVALUATION_HIST_MATCHER_H_
#define GCL_EVALUATION_HIST_MATCHER_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "evaluation/reid_metrics.h"

namespace gcl::evaluation {

struct HistogramDescriptor {
  std::string name;
  int stripes = 6;
  // Fraction of the crop's width kept, centred (1 = the whole crop).
  double central_fraction = 0.5;
  int hue_bins = 16, sat_bins = 4, val_bins = 4;
  // > 0: pixels with saturation below `grey_max_saturation` or value below `grey_max_value` (OpenCV's 0..255)
  // go to this many grey-level bins instead of the hue bins, whose saturation and value ranges then start at
  // those thresholds. 0: every pixel goes to the hue x saturation x value bins.
  int grey_bins = 0;
  int grey_max_saturation = 40, grey_max_value = 30;

  int BinsPerStripe() const { return hue_bins * sat_bins * val_bins + grey_bins; }
};

// The descriptors hist_baseline reports, the strongest first:
//   "hsv16x4x4_half":       16 x 4 x 4 HSV bins, six stripes of the central half of the width;
//   "hsv8x3x3+grey_3q":     8 x 3 x 3 HSV bins plus 4 grey-level bins, six stripes of the central three
//                           quarters (the project's first calibration descriptor);
//   "hsv16x4x4_whole":      the first over the whole crop (how much the background weighs).
std::vector<HistogramDescriptor> NamedHistogramDescriptors();

// The named descriptor; throws std::invalid_argument listing the names for another.
HistogramDescriptor HistogramDescriptorByName(const std::string& name);

// The feature of an 8-bit BGR image (stripes x BinsPerStripe() values). Throws std::invalid_argument for an
// empty image or another type, or a descriptor with a non-positive size.
std::vector<float> ColourHistogramFeature(const cv::Mat& bgr, const HistogramDescriptor& descriptor);

// Euclidean distance between two features of the same descriptor.
float HistogramDistance(const std::vector<float>& a, const std::vector<float>& b);

// Matches every query of `<dataset>/query` against `<dataset>/bounding_box_test` (Market names; pid -1 junk
// skipped) and returns the Market-protocol metrics. Throws std::runtime_error naming the folder or file that is
// missing or unreadable.
evaluation::ReidMetrics EvaluateHistogramBaseline(const std::string& dataset_dir,
                                                  const HistogramDescriptor& descriptor);

// The same for images given by path with their labels (any split layout).
evaluation::ReidMetrics EvaluateHistogramBaseline(const std::vector<std::string>& query_paths,
                                                  const evaluation::ReidLabels& query,
                                                  const std::vector<std::string>& gallery_paths,
                                                  const evaluation::ReidLabels& gallery,
                                                  const HistogramDescriptor& descriptor);

}  // namespace gcl::evaluation

#endif  // GCL_EVALUATION_HIST_MATCHER_H_

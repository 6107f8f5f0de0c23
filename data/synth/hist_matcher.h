// A colour-histogram re-identification baseline and the Market-1501 evaluation protocol (mAP, CMC).
//
// It calibrates how hard the synthetic world is: a matcher that only compares colour distributions in
// horizontal stripes should do poorly when cameras shift colours, people share outfits and the sides seen
// differ. The metrics follow reference section 8: per query, gallery items with the same pid AND the same
// camera are dropped; AP is the area under the precision-recall curve of the remaining ranked list (sklearn's
// average_precision_score with no ties); queries without a valid match are skipped; CMC counts the first match.
//
//   gcl::clustering::ReidMetrics m = gcl::data::EvaluateHistogramBaseline("/data/synth_quick");
//   std::printf("mAP %.1f%% rank-1 %.1f%%\n", 100 * m.mean_ap, 100 * m.cmc[0]);
//
// Not a general ReID evaluator for learned features (see clustering/ for the project's metrics on tensors).
#ifndef GCL_DATA_SYNTH_HIST_MATCHER_H_
#define GCL_DATA_SYNTH_HIST_MATCHER_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "clustering/reid_metrics.h"

namespace gcl::data {

// The central three quarters of the columns (detection boxes centre the person), cut into
// six horizontal stripes x an HSV histogram (8 hue x 3 saturation x 3 value bins, plus 4 grey-level bins for
// unsaturated pixels), each stripe L1-normalised, square-rooted (Hellinger), concatenated. Input: 8-bit BGR.
std::vector<float> ColourHistogramFeature(const cv::Mat& bgr);

// Euclidean distance between Hellinger features (a monotone function of the Bhattacharyya coefficient).
float HistogramDistance(const std::vector<float>& a, const std::vector<float>& b);

// Reads `<dataset>/query` and `<dataset>/bounding_box_test` (Market names), matches every query against the
// gallery with the histogram features and returns the project's ReID metrics (clustering/reid_metrics.h). Throws std::runtime_error naming the folder or
// file that is missing or unreadable.
clustering::ReidMetrics EvaluateHistogramBaseline(const std::string& dataset_dir);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_HIST_MATCHER_H_

// People in a video frame: OpenCV's HOG pedestrian detector (Dalal and Triggs' linear SVM,
// cv::HOGDescriptor::getDefaultPeopleDetector) with our own deterministic merging of its raw windows.
//
//   gcl::data::HogPersonDetector detector;                       // HogOptions defaults
//   std::vector<gcl::data::Detection> people = detector.Detect(frame_bgr);
//   // people[i].box: the detector's 64x128-shaped window in frame pixels; people[i].support: raw windows merged
//
// Why not detectMultiScale's own grouping: its windows come back in the order its threads finish, and the order
// of the grouped boxes follows it; MergeWindows sorts first, so the same frame always gives the same boxes in
// the same order, whatever the thread count.
//
// The detector window is 64x128 pixels with the person about 96 pixels tall in its centre (the INRIA training
// crops). People in surveillance footage are often smaller than that, so the frame is upscaled before
// detection (HogOptions::upscale) and the boxes are mapped back.
#ifndef GCL_DATA_FOOTAGE_PERSON_DETECTOR_H_
#define GCL_DATA_FOOTAGE_PERSON_DETECTOR_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/objdetect.hpp>

namespace gcl::data {

struct Detection {
  cv::Rect2d box;      // frame pixels; the detector window's shape (width = height / 2)
  double score = 0.0;  // the highest SVM margin among the merged windows
  int support = 1;     // raw windows merged into this detection
};

struct HogOptions {
  // Frame scale factor before detection. At 1.5 the smallest window (128 upscaled pixels) holds a person about
  // 64 frame pixels tall: smaller people would make blurry 128-pixel crops anyway. (At 2, people down to 48
  // pixels are found, at twice the time: 7 instead of 3.5 CPU minutes for vtest.avi's 795 frames.)
  double upscale = 1.5;
  // Window pyramid: scale step and number of levels (the largest window is 128 * scale_step^(levels-1)
  // upscaled pixels tall; 16 levels at 1.05 reach 266, a person about 133 frame pixels tall at upscale 1.5).
  double scale_step = 1.05;
  int levels = 16;
  // Window stride in upscaled pixels (HOG's cell size, 8, is the finest that makes sense).
  int window_stride = 8;
  // SVM margin a raw window must exceed (cv::HOGDescriptor hitThreshold).
  double hit_threshold = 0.0;
  // Raw windows overlapping the best remaining window by more than this intersection-over-union join it.
  double merge_iou = 0.3;
  // Merged detections built from fewer raw windows are dropped (a person fires at several neighbouring
  // positions and scales; an isolated window is usually clutter). detectMultiScale's own default asks for 2.
  int min_support = 3;
};

// "upscale 2 scale_step 1.05 levels 24 ..." : every field, for stamps and logs.
std::string HogOptionsToText(const HogOptions& options);

// Throws std::invalid_argument naming the first field out of range.
void ValidateHogOptions(const HogOptions& options);

double IntersectionOverUnion(const cv::Rect2d& a, const cv::Rect2d& b);

// Greedy merging of raw detector windows: sorted by score (ties by position and size), the best remaining
// window takes every remaining window whose IoU with it exceeds `merge_iou`; the merged box is the
// score-weighted mean of the group (windows scored <= 0 count with a tiny weight), its score the best one.
// Groups with fewer than `min_support` windows are dropped. Output sorted by score, best first.
std::vector<Detection> MergeWindows(std::vector<Detection> windows, double merge_iou, int min_support);

class HogPersonDetector {
 public:
  explicit HogPersonDetector(const HogOptions& options = {});

  // People in an 8-bit BGR frame (throws std::invalid_argument for another type or an empty frame).
  std::vector<Detection> Detect(const cv::Mat& frame_bgr) const;

  const HogOptions& options() const { return options_; }

 private:
  HogOptions options_;
  cv::HOGDescriptor hog_;
};

}  // namespace gcl::data

#endif  // GCL_DATA_FOOTAGE_PERSON_DETECTOR_H_

// Procedural scene backgrounds, one wide plate per camera; each image shows a window of it.
//
// A plate has a scene part (facade, shops, trees, parked cars, an indoor wall) above a ground part (tiles,
// grass, asphalt, floor) that starts at `horizon` (fraction of the height; steeper cameras see more ground).
// Plates carry saturated colours on purpose: a colour-histogram matcher that does not separate the person
// from the scene is misled by them.
//
//   cv::Mat plate = gcl::data::MakeBackgroundPlate(gcl::data::BackgroundStyle::kShopFront, {512, 160}, 0.6f, 17);
#ifndef GCL_DATA_SYNTH_BACKGROUND_H_
#define GCL_DATA_SYNTH_BACKGROUND_H_

#include <cstdint>

#include <opencv2/core.hpp>

#include "data/synth/camera_model.h"

namespace gcl::data {

// A CV_32FC3 RGB image in [0, 1], deterministic in (style, size, horizon, seed).
cv::Mat MakeBackgroundPlate(BackgroundStyle style, cv::Size size, float horizon, uint64_t seed);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_BACKGROUND_H_

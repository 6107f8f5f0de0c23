// TensorFlow's "SAME" padding of one spatial axis, shared by the TF.js graph executor (models/tfjs) and the
// MobileNetV2 backbone initialised from TF.js weights (models/mobilenet_v2.h).
//
// The output has ceil(in / stride) positions; the padding that needs is split with the odd pixel AFTER (bottom /
// right), where LibTorch's `padding=` pads both sides equally. For a stride-2 3x3 convolution on an even size
// TensorFlow pads 0 before and 1 after, LibTorch 1 and 1: a shifted sampling grid, which changes MobileNetV2's
// backbone map in MoveNet-Thunder by 96 % (relative L2, //tests/models/tfjs:graph_executor_test).
#ifndef GCL_MODELS_TF_SAME_PADDING_H_
#define GCL_MODELS_TF_SAME_PADDING_H_

#include <algorithm>
#include <cstdint>

namespace gcl::models {

struct SamePadding {
  int64_t before = 0;
  int64_t after = 0;
};

// pad_total = max((ceil(in / stride) - 1) * stride + (kernel - 1) * dilation + 1 - in, 0), before = total / 2.
inline SamePadding ComputeSamePadding(int64_t in, int64_t kernel, int64_t stride, int64_t dilation = 1) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t effective = (kernel - 1) * dilation + 1;
  const int64_t total = std::max<int64_t>((out - 1) * stride + effective - in, 0);
  return {total / 2, total - total / 2};
}

}  // namespace gcl::models

#endif  // GCL_MODELS_TF_SAME_PADDING_H_

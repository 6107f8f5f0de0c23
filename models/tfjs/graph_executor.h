// Runs a TF.js graph model (models/tfjs/graph_model.h) with LibTorch, on the CPU or on the training device.
//
//   const gcl::models::tfjs::GraphModel model = gcl::models::tfjs::ReadGraphModel(path);
//   gcl::models::tfjs::GraphExecutor net(model, torch::kCPU);
//   std::vector<at::Tensor> out = net.Run({{"input", image_nhwc_int32}}, {"Identity"});   // 1 x 1 x 17 x 3
//
// Tensors go in and come out in TensorFlow's layout (NHWC for images) and dtypes. Inside, 4-D activations are kept
// in LibTorch's NCHW from the first convolution on: a layout change happens once on the way in and once per
// fetched tensor, and layout-free ops (convolutions, pooling, resizing, padding, element-wise ops, DepthToSpace,
// concatenation) work on NCHW directly; shape-sensitive ops (Reshape, Shape, GatherNd, StridedSlice...) see
// TensorFlow's layout. TensorFlow semantics are kept exactly where they differ from LibTorch's defaults:
//   - "SAME" padding puts the odd extra pixel of a strided convolution or pooling at the bottom/right
//     (models/tf_same_padding.h); LibTorch's symmetric padding moves MoveNet's backbone map by 96 % (relative L2);
//   - ResizeBilinear follows TF.js's formula for all three modes (half-pixel centres, align_corners, legacy);
//   - FloorDiv rounds toward -inf; Cast to int truncates; GatherNd and StridedSlice refuse out-of-range indices.
// Supported ops: SupportedOps(). The constructor checks the whole graph (every op known, every input present, no
// cycle, every Const has a value, attributes the kernels need) and throws std::runtime_error naming the model
// file, the node and the problem; Run checks its feeds and fetches the same way. Run only evaluates the nodes
// the fetches need, so a backbone's feature map can be fetched alone. It records autograd history when its
// inputs require grad (the weights themselves are constants); wrap calls in torch::NoGradGuard for inference.
// Run is const and keeps no state between calls, so one executor may serve several threads at once.
#ifndef GCL_MODELS_TFJS_GRAPH_EXECUTOR_H_
#define GCL_MODELS_TFJS_GRAPH_EXECUTOR_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/tf_same_padding.h"
#include "models/tfjs/graph_model.h"

namespace gcl::models::tfjs {

class GraphExecutor {
 public:
  // Moves the weights to `device` (convolution filters already in LibTorch's layout).
  GraphExecutor(const GraphModel& model, c10::Device device);
  ~GraphExecutor();
  GraphExecutor(GraphExecutor&&) noexcept;
  GraphExecutor& operator=(GraphExecutor&&) noexcept;

  // `feeds`: Placeholder node name -> tensor (TensorFlow layout, the placeholder's dtype, its declared shape where
  // known; moved to the executor's device). `fetches`: "node" or "node:k" (output k of a multi-output op).
  // Returns contiguous tensors on the executor's device, in `fetches` order.
  std::vector<at::Tensor> Run(const std::map<std::string, at::Tensor>& feeds,
                              const std::vector<std::string>& fetches) const;

  // The graph's Placeholder nodes, in graph order.
  std::vector<std::string> InputNames() const;
  c10::Device device() const;

  // Every op name the executor runs, sorted.
  static std::vector<std::string> SupportedOps();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gcl::models::tfjs

#endif  // GCL_MODELS_TFJS_GRAPH_EXECUTOR_H_

// models/tfjs/graph_executor.h: the real MoveNet and BlazePose graphs against what TensorFlow.js computes for
// them (tests/testdata/tfjs, recorded by record_reference.mjs), each op against a naive double-precision
// TensorFlow reference on small graphs, and the errors for malformed graphs, feeds and fetches.
#include "models/tfjs/graph_executor.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/state_dict.h"
#include "models/tfjs/bundled_models.h"
#include "models/tfjs/graph_model.h"

namespace gcl::models::tfjs {
namespace {

const char kData[] = "tests/testdata/tfjs/";
const char kMoveNetBackbone[] =
    "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/out_relu/Relu6";

// Both sides decode the same float16 weights exactly, so what differs is float32 arithmetic: TF.js's CPU
// kernels sum each dot product in double and round once per op, LibTorch sums in float32 in its own order.
// Through ~60 layers this leaves differences of 1e-6..1e-5 of a tensor's largest magnitude (measured 0.6e-6 to
// 8.4e-6, docs/models.md); the bound is ~10x above the largest, and far below a real error (symmetric instead of
// TensorFlow's SAME padding moves MoveNet's backbone map by 96 %, SymmetricPaddingWouldBeFarOff).
constexpr double kTolerance = 1e-4;
// BlazePose's person mask is sigmoid(logits), logits from -1662 to 268 out of a 3x3 convolution whose weights sum to
// 503 in absolute value: the mask branch amplifies rounding, so that our executor run in float64 differs from
// TF.js by 2.0e-4 of the largest logit (BlazePoseMaskLogitsAreIllConditioned). The logits get 1e-3 of their
// largest magnitude (measured 1.6e-4 in float32); the mask, a probability, 1e-3 absolute (measured 2.2e-4).
constexpr double kMaskLogitTolerance = 1e-3;
constexpr double kMaskTolerance = 1e-3;
const char kBlazePoseMask[] = "Identity_1";
const char kBlazePoseMaskLogits[] = "StatefulPartitionedCall/model/output_segmentation/BiasAdd";

// max |a - b| / max |b|: the error relative to the tensor's scale.
double ScaledError(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor x = a.to(torch::kCPU).to(torch::kDouble), y = b.to(torch::kCPU).to(torch::kDouble);
  return ((x - y).abs().max() / y.abs().max().clamp_min(1e-30)).item<double>();
}

struct Reference {
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

Reference LoadReference(const std::string& model) {
  const Checkpoint c = ReadCheckpoint(std::string(kData) + model + ".safetensors");
  Reference r;
  for (const auto& [name, t] : c.tensors) r.tensors[name] = t;
  r.metadata = c.metadata;
  return r;
}

// The model input the recording script made from the stored picture, with the same float32 arithmetic.
torch::Tensor ModelInput(const Reference& r) {
  const torch::Tensor picture = r.tensors.at("image").unsqueeze(0);
  const std::string& transform = r.metadata.at("input_transform");
  if (transform == "int32") return picture.to(torch::kInt);
  const torch::Tensor f = picture.to(torch::kFloat);
  if (transform == "x/255") return f / 255.0f;
  if (transform == "x/127.5-1") return f / 127.5f - 1.0f;
  throw std::runtime_error("unknown input_transform " + transform);
}

void ExpectMatchesTfjs(const std::string& model, const std::vector<std::string>& fetches, c10::Device device) {
  const Reference ref = LoadReference(model);
  const GraphModel graph = ReadGraphModel(BundledModelJson(model));
  const GraphExecutor executor(graph, device);
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> out =
      executor.Run({{ref.metadata.at("input_node"), ModelInput(ref)}}, fetches);
  ASSERT_EQ(out.size(), fetches.size());
  for (size_t i = 0; i < fetches.size(); ++i) {
    const torch::Tensor& want = ref.tensors.at(fetches[i]);
    EXPECT_EQ(out[i].device(), device);
    ASSERT_EQ(out[i].sizes(), want.sizes()) << model << " " << fetches[i];
    const bool mask = model == "blazepose-full" && fetches[i] == kBlazePoseMask;
    const bool logits = model == "blazepose-full" && fetches[i] == kBlazePoseMaskLogits;
    const double error = mask ? (out[i] - want.to(out[i].device())).abs().max().item<double>() : ScaledError(out[i], want);
    EXPECT_LT(error, mask ? kMaskTolerance : logits ? kMaskLogitTolerance : kTolerance) << model << " " << fetches[i];
    std::cout << model << " " << fetches[i] << " " << c10::str(want.sizes())
              << (mask ? ": max error = " : ": max error / max |ref| = ") << error << "\n";
  }
}

TEST(TfjsReference, MoveNetThunderBackboneAndKeypoints) {
  ExpectMatchesTfjs("movenet-thunder", {kMoveNetBackbone, "Identity"}, torch::kCPU);
}

TEST(TfjsReference, MoveNetLightningBackboneAndKeypoints) {
  ExpectMatchesTfjs("movenet-lightning", {kMoveNetBackbone, "Identity"}, torch::kCPU);
}

// BlazePose full: heatmap, person mask, 33 x 5 landmarks (ld_3d), pose flag, 33 x 3 world landmarks, mask logits.
TEST(TfjsReference, BlazePoseFullLandmarksAndMask) {
  ExpectMatchesTfjs("blazepose-full",
                    {"Identity", kBlazePoseMask, "Identity_2", "Identity_3", "Identity_4", kBlazePoseMaskLogits},
                    torch::kCPU);
}

// Why the mask logits get a looser bound: the same graph run in float64 (weights, input and every op) lands as far
// from TF.js as the float32 run does, so the difference is the branch's sensitivity to rounding, not an error of
// the executor; the landmarks of the same run stay at the usual level.
TEST(TfjsReference, BlazePoseMaskLogitsAreIllConditioned) {
  const Reference ref = LoadReference("blazepose-full");
  GraphModel graph = ReadGraphModel(BundledModelJson("blazepose-full"));
  for (auto& [name, w] : graph.weights) {
    if (w.is_floating_point()) w = w.to(torch::kDouble);
  }
  for (auto& node : *graph.graph.mutable_node()) {
    if (node.op() == "Placeholder") (*node.mutable_attr())["dtype"].set_type(proto::tfjs::DT_DOUBLE);
  }
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> out = GraphExecutor(graph, torch::kCPU)
                                             .Run({{"input_1", ModelInput(ref).to(torch::kDouble)}},
                                                  {kBlazePoseMaskLogits, "Identity_2"});
  EXPECT_EQ(out[0].scalar_type(), torch::kDouble);
  const double logits = ScaledError(out[0], ref.tensors.at(kBlazePoseMaskLogits));
  EXPECT_GT(logits, kTolerance);
  EXPECT_LT(logits, kMaskLogitTolerance);
  EXPECT_LT(ScaledError(out[1], ref.tensors.at("Identity_2")), kTolerance);
  std::cout << "float64 run: mask logits max error / max |ref| = " << logits << "\n";
}

TEST(TfjsReference, BlazePoseDetector) { ExpectMatchesTfjs("blazepose-detector", {"Identity"}, torch::kCPU); }

TEST(TfjsReference, MoveNetThunderOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (Debian's LibTorch is CPU-only)";
  ExpectMatchesTfjs("movenet-thunder", {kMoveNetBackbone, "Identity"}, torch::Device(torch::kCUDA, 0));
}

// What TensorFlow's SAME padding is worth: the same MoveNet graph with LibTorch's symmetric padding (1 pixel on
// every side) on its five stride-2 3x3 convolutions ends far from TF.js's backbone map.
TEST(TfjsReference, SymmetricPaddingWouldBeFarOff) {
  const Reference ref = LoadReference("movenet-thunder");
  GraphModel graph = ReadGraphModel(BundledModelJson("movenet-thunder"));
  int rewritten = 0;
  for (auto& node : *graph.graph.mutable_node()) {
    const auto strides = node.attr().find("strides");
    if (strides == node.attr().end() || strides->second.list().i_size() != 4 || strides->second.list().i(1) != 2) continue;
    auto& attr = *node.mutable_attr();
    attr["padding"].set_s("EXPLICIT");
    attr["explicit_paddings"].mutable_list()->clear_i();
    for (const int64_t p : {0, 0, 1, 1, 1, 1, 0, 0}) attr["explicit_paddings"].mutable_list()->add_i(p);
    ++rewritten;
  }
  EXPECT_EQ(rewritten, 5);
  torch::NoGradGuard no_grad;
  const torch::Tensor got =
      GraphExecutor(graph, torch::kCPU).Run({{"input", ModelInput(ref)}}, {kMoveNetBackbone})[0];
  const torch::Tensor want = ref.tensors.at(kMoveNetBackbone);
  const double relative_l2 = ((got - want).norm() / want.norm()).item<double>();
  EXPECT_GT(relative_l2, 0.5);
  std::cout << "symmetric padding: backbone relative L2 distance to TF.js = " << relative_l2 << "\n";
}

// The keypoint outputs hold argmax positions: they match TF.js exactly, not just within the tolerance.
TEST(TfjsReference, MoveNetKeypointsAreTheSameCells) {
  const Reference ref = LoadReference("movenet-thunder");
  const GraphExecutor executor(ReadGraphModel(BundledModelJson("movenet-thunder")), torch::kCPU);
  torch::NoGradGuard no_grad;
  const torch::Tensor keypoints = executor.Run({{"input", ModelInput(ref)}}, {"Identity"})[0];
  // y, x are (cell + offset) / 64 with the offset regressed: within 1e-4, they are in the same cell.
  EXPECT_LT((keypoints - ref.tensors.at("Identity")).abs().max().item<float>(), 1e-4);
}

TEST(TfjsReference, OnlyTheNeededNodesRun) {
  // Fetching the backbone does not need the heads; a graph whose heads could not run still gives it. Here: the
  // backbone alone from a feed of the right shape, and an error naming a missing feed when one is needed.
  const GraphExecutor executor(ReadGraphModel(BundledModelJson("movenet-thunder")), torch::kCPU);
  try {
    executor.Run({}, {kMoveNetBackbone});
    FAIL() << "ran without its input";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("node 'input' (Placeholder): this input is needed but was not fed"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(executor.InputNames(), std::vector<std::string>{"input"});
}

// ---- single ops on small graphs, against naive TensorFlow semantics in double precision ----

std::string Base64(const std::string& text) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < text.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(text[i]) << 16) |
                       (i + 1 < text.size() ? static_cast<uint8_t>(text[i + 1]) << 8 : 0) |
                       (i + 2 < text.size() ? static_cast<uint8_t>(text[i + 2]) : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < text.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < text.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string S(const std::string& text) { return R"({"s": ")" + Base64(text) + R"("})"; }
std::string Ints(const std::vector<int64_t>& v) {
  std::string out = R"({"list": {"i": [)";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + std::to_string(v[i]) + "\"";
  return out + "]}}";
}
std::string Strings(const std::vector<std::string>& v) {
  std::string out = R"({"list": {"s": [)";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + Base64(v[i]) + "\"";
  return out + "]}}";
}

std::string Node(const std::string& name, const std::string& op, const std::vector<std::string>& inputs,
                 const std::map<std::string, std::string>& attrs = {}) {
  std::string out = R"({"name": ")" + name + R"(", "op": ")" + op + R"(", "input": [)";
  for (size_t i = 0; i < inputs.size(); ++i) out += (i ? ", \"" : "\"") + inputs[i] + "\"";
  out += R"(], "attr": {)";
  bool first = true;
  for (const auto& [key, value] : attrs) {
    out += (first ? "\"" : ", \"") + key + "\": " + value;
    first = false;
  }
  return out + "}}";
}

std::string Placeholder(const std::string& name, const std::string& dtype = "DT_FLOAT") {
  return Node(name, "Placeholder", {}, {{"dtype", R"({"type": ")" + dtype + R"("})"}});
}

GraphModel Graph(const std::vector<std::string>& nodes, const std::map<std::string, torch::Tensor>& weights = {}) {
  std::string json = R"({"modelTopology": {"node": [)";
  for (size_t i = 0; i < nodes.size(); ++i) json += (i ? ", " : "") + nodes[i];
  GraphModel m;
  m.source = "test.json";
  m.graph = ParseModelJson(json + "]}}", "test.json").model_topology();
  for (const auto& [name, t] : weights) m.weights[name] = t;
  return m;
}

torch::Tensor RunOne(const GraphModel& m, const std::map<std::string, torch::Tensor>& feeds, const std::string& fetch) {
  return GraphExecutor(m, torch::kCPU).Run(feeds, {fetch})[0];
}

std::string RunError(const GraphModel& m, const std::map<std::string, torch::Tensor>& feeds, const std::string& fetch) {
  try {
    GraphExecutor(m, torch::kCPU).Run(feeds, {fetch});
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Naive NHWC convolution with TensorFlow's SAME/VALID padding (zero pads, extra pad bottom/right), a grouped
// (depthwise) variant when `multiplier` > 0: filter [kh, kw, C, M], output channel c*M + m.
torch::Tensor NaiveConv(const torch::Tensor& x, const torch::Tensor& f, int64_t stride, int64_t dilation, bool same,
                        int64_t multiplier) {
  const torch::Tensor xd = x.to(torch::kDouble), fd = f.to(torch::kDouble);
  const auto X = xd.accessor<double, 4>();
  const auto F = fd.accessor<double, 4>();
  const int64_t h = x.size(1), w = x.size(2), c = x.size(3), kh = f.size(0), kw = f.size(1);
  const int64_t ekh = (kh - 1) * dilation + 1, ekw = (kw - 1) * dilation + 1;
  const int64_t oh = same ? (h + stride - 1) / stride : (h - ekh) / stride + 1;
  const int64_t ow = same ? (w + stride - 1) / stride : (w - ekw) / stride + 1;
  const int64_t top = same ? std::max<int64_t>((oh - 1) * stride + ekh - h, 0) / 2 : 0;
  const int64_t left = same ? std::max<int64_t>((ow - 1) * stride + ekw - w, 0) / 2 : 0;
  const int64_t oc = multiplier > 0 ? c * multiplier : f.size(3);
  torch::Tensor out = torch::zeros({x.size(0), oh, ow, oc}, torch::kDouble);
  auto O = out.accessor<double, 4>();
  for (int64_t n = 0; n < x.size(0); ++n)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < oc; ++o) {
          double sum = 0;
          for (int64_t a = 0; a < kh; ++a)
            for (int64_t b = 0; b < kw; ++b) {
              const int64_t y = i * stride + a * dilation - top, xx = j * stride + b * dilation - left;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              if (multiplier > 0) {
                sum += X[n][y][xx][o / multiplier] * F[a][b][o / multiplier][o % multiplier];
              } else {
                for (int64_t k = 0; k < c; ++k) sum += X[n][y][xx][k] * F[a][b][k][o];
              }
            }
          O[n][i][j][o] = sum;
        }
  return out;
}

TEST(SamePadding, PutsTheOddPixelAfter) {
  EXPECT_EQ(ComputeSamePadding(256, 3, 2, 1).before, 0);  // MobileNetV2's stride-2 layers at even sizes
  EXPECT_EQ(ComputeSamePadding(256, 3, 2, 1).after, 1);
  EXPECT_EQ(ComputeSamePadding(255, 3, 2, 1).before, 1);  // odd sizes pad symmetrically
  EXPECT_EQ(ComputeSamePadding(255, 3, 2, 1).after, 1);
  EXPECT_EQ(ComputeSamePadding(10, 3, 1, 1).before, 1);
  EXPECT_EQ(ComputeSamePadding(10, 3, 1, 2).after, 2);  // dilation 2: effective kernel 5
  EXPECT_EQ(ComputeSamePadding(10, 1, 2, 1).after, 0);
  EXPECT_EQ(ComputeSamePadding(3, 7, 1, 1).before, 3);
}

TEST(Ops, FusedConv2DSameStrideTwoWithBiasAndRelu6) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({2, 6, 7, 3}) * 3, f = torch::randn({3, 3, 3, 4}), bias = torch::randn({4});
  const GraphModel m = Graph({Placeholder("x"), Node("f", "Const", {}), Node("b", "Const", {}),
                              Node("y", "_FusedConv2D", {"x", "f", "b"},
                                   {{"strides", Ints({1, 2, 2, 1})}, {"padding", S("SAME")},
                                    {"data_format", S("NHWC")}, {"fused_ops", Strings({"BiasAdd", "Relu6"})},
                                    {"num_args", R"({"i": "1"})"}})},
                             {{"f", f}, {"b", bias}});
  const torch::Tensor want =
      (NaiveConv(x, f, 2, 1, /*same=*/true, 0) + bias.to(torch::kDouble)).clamp(0, 6);  // H pads 0/1, W pads 1/1
  const torch::Tensor got = RunOne(m, {{"x", x}}, "y");
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LT((got.to(torch::kDouble) - want).abs().max().item<double>(), 1e-5);
  // LibTorch's symmetric padding would differ: the test can tell the two apart.
  const torch::Tensor symmetric = torch::conv2d(x.permute({0, 3, 1, 2}), f.permute({3, 2, 0, 1}), bias, 2, 1);
  EXPECT_GT((symmetric.clamp(0, 6).permute({0, 2, 3, 1}).to(torch::kDouble) - want).abs().max().item<double>(), 0.1);
}

TEST(Ops, Conv2DValidDilatedAndExplicitPadding) {
  torch::manual_seed(2);
  const torch::Tensor x = torch::randn({1, 9, 8, 2}), f = torch::randn({3, 2, 2, 3});
  const GraphModel valid = Graph({Placeholder("x"), Node("f", "Const", {}),
                                  Node("y", "Conv2D", {"x", "f"},
                                       {{"strides", Ints({1, 1, 1, 1})}, {"dilations", Ints({1, 2, 2, 1})},
                                        {"padding", S("VALID")}})},
                                 {{"f", f}});
  const torch::Tensor want = NaiveConv(x, f, 1, 2, /*same=*/false, 0);
  EXPECT_LT((RunOne(valid, {{"x", x}}, "y").to(torch::kDouble) - want).abs().max().item<double>(), 1e-5);
  // EXPLICIT: 1 row on top, 2 below, none left, 1 right = VALID on the zero-padded input.
  const GraphModel explicit_pad =
      Graph({Placeholder("x"), Node("f", "Const", {}),
             Node("y", "Conv2D", {"x", "f"},
                  {{"strides", Ints({1, 1, 1, 1})}, {"padding", S("EXPLICIT")},
                   {"explicit_paddings", Ints({0, 0, 1, 2, 0, 1, 0, 0})}})},
            {{"f", f}});
  const torch::Tensor padded = torch::constant_pad_nd(x, {0, 0, 0, 1, 1, 2});
  EXPECT_LT((RunOne(explicit_pad, {{"x", x}}, "y").to(torch::kDouble) - NaiveConv(padded, f, 1, 1, false, 0))
                .abs()
                .max()
                .item<double>(),
            1e-5);
}

TEST(Ops, DepthwiseWithChannelMultiplier) {
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({1, 5, 6, 3}), f = torch::randn({3, 3, 3, 2}), bias = torch::randn({6});
  const GraphModel m = Graph({Placeholder("x"), Node("f", "Const", {}), Node("b", "Const", {}),
                              Node("y", "FusedDepthwiseConv2dNative", {"x", "f", "b"},
                                   {{"strides", Ints({1, 2, 2, 1})}, {"padding", S("SAME")},
                                    {"fused_ops", Strings({"BiasAdd", "Relu"})}, {"num_args", R"({"i": "1"})"}})},
                             {{"f", f}, {"b", bias}});
  const torch::Tensor want = (NaiveConv(x, f, 2, 1, true, /*multiplier=*/2) + bias.to(torch::kDouble)).relu();
  EXPECT_LT((RunOne(m, {{"x", x}}, "y").to(torch::kDouble) - want).abs().max().item<double>(), 1e-5);
}

TEST(Ops, MaxPoolSameIgnoresPadding) {
  torch::manual_seed(4);
  const torch::Tensor x = -torch::rand({1, 6, 5, 2}) - 1;  // all negative: a zero pad would win the max
  const GraphModel m = Graph({Placeholder("x"), Node("y", "MaxPool", {"x"},
                                                     {{"ksize", Ints({1, 3, 3, 1})}, {"strides", Ints({1, 2, 2, 1})},
                                                      {"padding", S("SAME")}})});
  const torch::Tensor got = RunOne(m, {{"x", x}}, "y");
  ASSERT_EQ(got.sizes(), torch::IntArrayRef({1, 3, 3, 2}));
  const auto X = x.accessor<float, 4>();
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t c = 0; c < 2; ++c) {
        // H 6 -> 3: pads 0 / 1; W 5 -> 3: pads 1 / 1.
        float best = -std::numeric_limits<float>::infinity();
        for (int64_t a = 0; a < 3; ++a)
          for (int64_t b = 0; b < 3; ++b) {
            const int64_t y = i * 2 + a, xx = j * 2 + b - 1;
            if (y < 6 && xx >= 0 && xx < 5) best = std::max(best, X[0][y][xx][c]);
          }
        EXPECT_EQ(got[0][i][j][c].item<float>(), best);
      }
}

// TF.js's ResizeBilinear (tfjs-backend-cpu) in double precision.
torch::Tensor NaiveResize(const torch::Tensor& x, int64_t oh, int64_t ow, bool align_corners, bool half_pixel) {
  const torch::Tensor xd = x.to(torch::kDouble);
  const auto X = xd.accessor<double, 4>();
  const int64_t h = x.size(1), w = x.size(2);
  auto source = [&](int64_t in, int64_t out, int64_t i) {
    const bool align = align_corners && out > 1;
    const double ratio = static_cast<double>(align ? in - 1 : in) / (align ? out - 1 : out);
    return half_pixel ? ratio * (i + 0.5) - 0.5 : ratio * i;
  };
  torch::Tensor out = torch::zeros({x.size(0), oh, ow, x.size(3)}, torch::kDouble);
  auto O = out.accessor<double, 4>();
  for (int64_t i = 0; i < oh; ++i) {
    const double sr = source(h, oh, i);
    const int64_t r0 = std::max<int64_t>(0, std::floor(sr)), r1 = std::min<int64_t>(h - 1, std::ceil(sr));
    const double fr = sr - r0;
    for (int64_t j = 0; j < ow; ++j) {
      const double sc = source(w, ow, j);
      const int64_t c0 = std::max<int64_t>(0, std::floor(sc)), c1 = std::min<int64_t>(w - 1, std::ceil(sc));
      const double fc = sc - c0;
      for (int64_t c = 0; c < x.size(3); ++c) {
        const double top = X[0][r0][c0][c] + (X[0][r0][c1][c] - X[0][r0][c0][c]) * fc;
        const double bottom = X[0][r1][c0][c] + (X[0][r1][c1][c] - X[0][r1][c0][c]) * fc;
        O[0][i][j][c] = top + (bottom - top) * fr;
      }
    }
  }
  return out;
}

TEST(Ops, ResizeBilinearAllModes) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({1, 3, 4, 2});
  for (const auto& [align, half] : std::vector<std::pair<bool, bool>>{{false, true}, {true, false}, {false, false}}) {
    for (const auto& [oh, ow] : std::vector<std::pair<int64_t, int64_t>>{{7, 5}, {2, 3}, {1, 1}}) {
      const GraphModel m = Graph({Placeholder("x"), Node("size", "Const", {}),
                                  Node("y", "ResizeBilinear", {"x", "size"},
                                       {{"align_corners", align ? R"({"b": true})" : R"({"b": false})"},
                                        {"half_pixel_centers", half ? R"({"b": true})" : R"({"b": false})"}})},
                                 {{"size", torch::tensor({static_cast<int32_t>(oh), static_cast<int32_t>(ow)})}});
      const torch::Tensor got = RunOne(m, {{"x", x}}, "y");
      const torch::Tensor want = NaiveResize(x, oh, ow, align, half);
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_LT((got.to(torch::kDouble) - want).abs().max().item<double>(), 1e-6)
          << "align_corners " << align << " half_pixel " << half << " " << oh << "x" << ow;
    }
  }
}

TEST(Ops, DepthToSpaceAndPadAfterAConvolution) {
  torch::manual_seed(6);
  const torch::Tensor x = torch::randn({1, 2, 3, 8});
  const torch::Tensor identity = torch::eye(8).reshape({1, 1, 8, 8});  // keeps x, but stores it NCHW
  const GraphModel m = Graph(
      {Placeholder("x"), Node("f", "Const", {}), Node("p", "Const", {}),
       Node("c", "Conv2D", {"x", "f"}, {{"strides", Ints({1, 1, 1, 1})}, {"padding", S("VALID")}}),
       Node("d", "DepthToSpace", {"c"}, {{"block_size", R"({"i": "2"})"}}), Node("y", "Pad", {"d", "p"})},
      {{"f", identity}, {"p", torch::tensor({0, 0, 1, 0, 0, 2, 0, 1}, torch::kInt).reshape({4, 2})}});
  const torch::Tensor got = RunOne(m, {{"x", x}}, "y");
  ASSERT_EQ(got.sizes(), torch::IntArrayRef({1, 5, 8, 3}));
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t w = 0; w < 6; ++w)
      for (int64_t c = 0; c < 2; ++c) {
        // out[h, w, c] = in[h / 2, w / 2, ((h % 2) * 2 + w % 2) * 2 + c], shifted by the padding (1 row, 0 cols).
        const float want = x[0][h / 2][w / 2][((h % 2) * 2 + w % 2) * 2 + c].item<float>();
        EXPECT_NEAR(got[0][h + 1][w][c].item<float>(), want, 1e-6);
      }
  EXPECT_EQ(got.select(1, 0).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(got.select(3, 2).abs().max().item<float>(), 0.0f);
}

TEST(Ops, BroadcastingAndConcatMixLayouts) {
  torch::manual_seed(7);
  const torch::Tensor x = torch::randn({2, 3, 4, 5}), scale = torch::randn({5}), row = torch::randn({1, 1, 4, 5});
  const torch::Tensor identity = torch::eye(5).reshape({1, 1, 5, 5});
  const GraphModel m = Graph(
      {Placeholder("x"), Node("f", "Const", {}), Node("s", "Const", {}), Node("r", "Const", {}),
       Node("axis", "Const", {}),
       Node("c", "Conv2D", {"x", "f"}, {{"strides", Ints({1, 1, 1, 1})}, {"padding", S("SAME")}}),
       Node("m", "Mul", {"c", "s"}), Node("a", "AddV2", {"m", "r"}), Node("y", "ConcatV2", {"a", "x", "axis"})},
      {{"f", identity}, {"s", scale}, {"r", row}, {"axis", torch::tensor(-1, torch::kInt)}});
  const torch::Tensor got = RunOne(m, {{"x", x}}, "y");
  EXPECT_TRUE(torch::allclose(got, torch::cat({x * scale + row, x}, -1), 1e-5, 1e-6));
}

TEST(Ops, StridedSliceMasksEllipsisNewAxisShrink) {
  const torch::Tensor x = torch::arange(24, torch::kInt).reshape({2, 3, 4});
  auto slice = [&](std::vector<int32_t> b, std::vector<int32_t> e, std::vector<int32_t> s,
                   std::map<std::string, int> masks) {
    std::map<std::string, std::string> attrs;
    for (const auto& [k, v] : masks) attrs[k] = R"({"i": ")" + std::to_string(v) + "\"}";
    const GraphModel m = Graph({Placeholder("x", "DT_INT32"), Node("b", "Const", {}), Node("e", "Const", {}),
                                Node("s", "Const", {}), Node("y", "StridedSlice", {"x", "b", "e", "s"}, attrs)},
                               {{"b", torch::tensor(b)}, {"e", torch::tensor(e)}, {"s", torch::tensor(s)}});
    return RunOne(m, {{"x", x}}, "y");
  };
  using torch::indexing::Slice;
  using torch::indexing::None;
  using torch::indexing::Ellipsis;
  EXPECT_TRUE(torch::equal(slice({0, 1}, {0, 3}, {1, 1}, {{"begin_mask", 1}, {"end_mask", 1}}),
                           x.index({Slice(), Slice(1, 3)})));
  EXPECT_TRUE(torch::equal(slice({1}, {2}, {1}, {{"shrink_axis_mask", 1}}), x[1]));
  EXPECT_TRUE(torch::equal(slice({-1}, {0}, {-1}, {{"end_mask", 1}}), x.flip(0)));
  EXPECT_TRUE(torch::equal(slice({0, 2}, {0, 3}, {1, 1}, {{"ellipsis_mask", 1}, {"shrink_axis_mask", 2}}),
                           x.index({Ellipsis, 2})));
  EXPECT_TRUE(torch::equal(slice({0, 0}, {0, 0}, {1, 1}, {{"new_axis_mask", 1}, {"begin_mask", 2}, {"end_mask", 2}}),
                           x.unsqueeze(0)));
  EXPECT_TRUE(torch::equal(slice({0, 1}, {0, 4}, {1, 2}, {{"ellipsis_mask", 1}}), x.index({Ellipsis, Slice(1, 4, 2)})));
  EXPECT_TRUE(torch::equal(slice({0, 3}, {0, 0}, {1, -2}, {{"ellipsis_mask", 1}}),
                           x.index({Ellipsis, torch::tensor({3, 1})})));
  EXPECT_TRUE(torch::equal(slice({-2, 5}, {100, -100}, {1, 1}, {}), x.index({Slice(0, 2), Slice(3, 0)})));  // clamped
  EXPECT_THROW(slice({5}, {6}, {1}, {{"shrink_axis_mask", 1}}), std::runtime_error);
  EXPECT_THROW(slice({0}, {1}, {0}, {}), std::runtime_error);
}

TEST(Ops, GatherNdArgMaxFloorDivAndShapes) {
  const torch::Tensor params = torch::arange(24, torch::kFloat).reshape({2, 3, 4});
  const GraphModel m = Graph(
      {Placeholder("p"), Placeholder("i", "DT_INT32"), Node("g", "GatherNd", {"p", "i"}),
       Node("dim", "Const", {}), Node("am", "ArgMax", {"p", "dim"}, {{"output_type", R"({"type": "DT_INT32"})"}}),
       Node("two", "Const", {}), Node("fd", "FloorDiv", {"n", "two"}), Placeholder("n", "DT_INT32"),
       Node("sh", "Shape", {"p"}), Node("u", "Unpack", {"p"}, {{"axis", R"({"i": "1"})"}, {"num", R"({"i": "3"})"}}),
       Node("pk", "Pack", {"u:2", "u:0"}, {{"axis", R"({"i": "-1"})"}}),
       Node("r", "Reshape", {"pk", "shape"}), Node("shape", "Const", {}),
       Node("e", "ExpandDims", {"r", "dim"}), Node("q", "Squeeze", {"e"}, {{"squeeze_dims", Ints({-1})}}),
       Node("cast", "Cast", {"am"}, {{"DstT", R"({"type": "DT_FLOAT"})"}})},
      {{"dim", torch::tensor(-1, torch::kInt)}, {"two", torch::tensor(2, torch::kInt)},
       {"shape", torch::tensor({4, -1}, torch::kInt)}});
  const GraphExecutor executor(m, torch::kCPU);
  const torch::Tensor idx = torch::tensor({1, 2, 0, 0}, torch::kInt).reshape({2, 2});
  const auto out = executor.Run({{"p", params}, {"i", idx}, {"n", torch::tensor({-7, 7, -8}, torch::kInt)}},
                                {"g", "am", "fd", "sh", "pk", "q", "cast"});
  EXPECT_TRUE(torch::equal(out[0], torch::stack({params[1][2], params[0][0]})));
  EXPECT_TRUE(torch::equal(out[1], torch::full({2, 3}, 3, torch::kInt)));
  EXPECT_TRUE(torch::equal(out[2], torch::tensor({-4, 3, -4}, torch::kInt)));  // floor, not truncation
  EXPECT_TRUE(torch::equal(out[3], torch::tensor({2, 3, 4}, torch::kInt)));
  EXPECT_TRUE(torch::equal(out[4], torch::stack({params.select(1, 2), params.select(1, 0)}, -1)));
  EXPECT_TRUE(torch::equal(out[5], out[4].reshape({4, -1})));
  EXPECT_TRUE(torch::equal(out[6], torch::full({2, 3}, 3.0f)));
  const std::string error = RunError(m, {{"p", params}, {"i", torch::tensor({{2, 0}}, torch::kInt)}}, "g");
  EXPECT_NE(error.find("node 'g' (GatherNd): an index of axis 0 is outside [0, 2)"), std::string::npos) << error;
}

TEST(Errors, MalformedGraphsFeedsAndFetches) {
  auto construct_error = [](const GraphModel& m) -> std::string {
    try {
      GraphExecutor(m, torch::kCPU);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  std::string e = construct_error(Graph({Placeholder("x"), Node("y", "Einsum", {"x"})}));
  EXPECT_NE(e.find("test.json: node 'y' has op 'Einsum', which the executor does not support"), std::string::npos) << e;
  EXPECT_NE(e.find("_FusedConv2D"), std::string::npos) << e;  // lists what is supported
  e = construct_error(Graph({Node("y", "Relu", {"ghost"})}));
  EXPECT_NE(e.find("node 'y' reads 'ghost', which is no node of the graph"), std::string::npos) << e;
  e = construct_error(Graph({Node("a", "Relu", {"b"}), Node("b", "Relu", {"a"})}));
  EXPECT_NE(e.find("cycle"), std::string::npos) << e;
  e = construct_error(Graph({Node("c", "Const", {})}));
  EXPECT_NE(e.find("Const node 'c' has no weight"), std::string::npos) << e;
  e = construct_error(Graph({Placeholder("x"), Node("y", "Relu", {"x", "x"})}));
  EXPECT_NE(e.find("node 'y' (Relu) has 2 inputs, expected 1"), std::string::npos) << e;
  e = construct_error(Graph({Placeholder("x"), Node("f", "Const", {}), Node("b", "Const", {}),
                             Node("y", "_FusedConv2D", {"x", "f", "b"},
                                  {{"fused_ops", Strings({"BiasAdd", "LeakyRelu"})}, {"num_args", R"({"i": "1"})"}})},
                            {{"f", torch::zeros({1, 1, 1, 1})}, {"b", torch::zeros({1})}}));
  EXPECT_NE(e.find("fused_ops [BiasAdd, LeakyRelu] are not supported"), std::string::npos) << e;

  const GraphModel m = Graph({Node("x", "Placeholder", {},
                                   {{"dtype", R"({"type": "DT_FLOAT"})"},
                                    {"shape", R"({"shape": {"dim": [{"size": "-1"}, {"size": "2"}]}})"}}),
                              Node("y", "Relu", {"x"}), Node("f", "Const", {}),
                              Node("z", "Conv2D", {"x", "f"}, {{"padding", S("SAME")}})},
                             {{"f", torch::zeros({1, 1, 2, 1})}});
  EXPECT_TRUE(torch::equal(RunOne(m, {{"x", torch::ones({5, 2})}}, "y"), torch::ones({5, 2})));  // -1: any size
  e = RunError(m, {{"x", torch::ones({5, 3})}}, "y");
  EXPECT_NE(e.find("node 'x' (Placeholder): input shape [5, 3] does not match the graph's [?, 2]"), std::string::npos)
      << e;
  e = RunError(m, {{"x", torch::ones({5, 2}, torch::kInt)}}, "y");
  EXPECT_NE(e.find("input dtype is Int, the graph expects Float"), std::string::npos) << e;
  e = RunError(m, {{"x", torch::ones({5, 2})}, {"w", torch::ones({1})}}, "y");
  EXPECT_NE(e.find("feed 'w' names no Placeholder"), std::string::npos) << e;
  e = RunError(m, {{"x", torch::ones({5, 2})}}, "nothing");
  EXPECT_NE(e.find("fetch 'nothing' names no node"), std::string::npos) << e;
  e = RunError(m, {{"x", torch::ones({5, 2})}}, "y:1");
  EXPECT_NE(e.find("fetch 'y:1': the node has 1 outputs"), std::string::npos) << e;
  e = RunError(m, {{"x", torch::ones({5, 2})}}, "z");
  EXPECT_NE(e.find("node 'z' (Conv2D): expects a 4-D NHWC tensor"), std::string::npos) << e;
  const GraphModel bad_padding = Graph({Placeholder("x"), Node("f", "Const", {}),
                                       Node("z", "Conv2D", {"x", "f"}, {{"padding", S("FULL")}})},
                                      {{"f", torch::zeros({1, 1, 1, 1})}});
  e = RunError(bad_padding, {{"x", torch::ones({1, 2, 2, 1})}}, "z");
  EXPECT_NE(e.find("node 'z' (Conv2D): padding 'FULL' is not supported"), std::string::npos) << e;
}

}  // namespace
}  // namespace gcl::models::tfjs

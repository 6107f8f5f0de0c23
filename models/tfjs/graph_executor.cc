#include "models/tfjs/graph_executor.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace gcl::models::tfjs {
namespace {

using ::gcl::models::ComputeSamePadding;
using ::gcl::models::SamePadding;
using proto::tfjs::AttrValue;
using proto::tfjs::DataType;
using proto::tfjs::NodeDef;

// A node output. `nchw` marks a logical 4-D NHWC tensor stored as LibTorch's NCHW (what convolutions produce);
// everything else is stored in TensorFlow's layout.
struct Value {
  at::Tensor t;
  bool nchw = false;
};

struct Context {
  const std::string& source;
  const NodeDef& def;
  c10::Device device;

  [[noreturn]] void Fail(const std::string& message) const {
    throw std::runtime_error(source + ": node '" + def.name() + "' (" + def.op() + "): " + message);
  }
};

// ---- attributes ----

const AttrValue* FindAttr(const NodeDef& def, const std::string& name) {
  const auto it = def.attr().find(name);
  return it == def.attr().end() ? nullptr : &it->second;
}

std::string AttrString(const Context& c, const std::string& name, const std::string& fallback) {
  const AttrValue* a = FindAttr(c.def, name);
  if (a == nullptr) return fallback;
  if (a->value_case() != AttrValue::kS) c.Fail("attribute '" + name + "' is not a string");
  return a->s();
}

int64_t AttrInt(const Context& c, const std::string& name, int64_t fallback) {
  const AttrValue* a = FindAttr(c.def, name);
  if (a == nullptr) return fallback;
  if (a->value_case() != AttrValue::kI) c.Fail("attribute '" + name + "' is not an integer");
  return a->i();
}

bool AttrBool(const Context& c, const std::string& name, bool fallback) {
  const AttrValue* a = FindAttr(c.def, name);
  if (a == nullptr) return fallback;
  if (a->value_case() != AttrValue::kB) c.Fail("attribute '" + name + "' is not a bool");
  return a->b();
}

DataType AttrType(const Context& c, const std::string& name, DataType fallback) {
  const AttrValue* a = FindAttr(c.def, name);
  if (a == nullptr) return fallback;
  if (a->value_case() != AttrValue::kType) c.Fail("attribute '" + name + "' is not a type");
  return a->type();
}

// A list attribute's integers; an absent attribute gives `fallback`. (An empty list reads as an empty ListValue.)
std::vector<int64_t> AttrInts(const Context& c, const std::string& name, const std::vector<int64_t>& fallback) {
  const AttrValue* a = FindAttr(c.def, name);
  if (a == nullptr) return fallback;
  if (a->value_case() != AttrValue::kList) c.Fail("attribute '" + name + "' is not a list");
  return std::vector<int64_t>(a->list().i().begin(), a->list().i().end());
}

std::vector<std::string> AttrStrings(const Context& c, const std::string& name) {
  const AttrValue* a = FindAttr(c.def, name);
  if (a == nullptr) return {};
  if (a->value_case() != AttrValue::kList) c.Fail("attribute '" + name + "' is not a list");
  return std::vector<std::string>(a->list().s().begin(), a->list().s().end());
}

at::ScalarType TorchType(const Context& c, DataType type) {
  switch (type) {
    case proto::tfjs::DT_FLOAT: return at::kFloat;
    case proto::tfjs::DT_DOUBLE: return at::kDouble;
    case proto::tfjs::DT_INT32: return at::kInt;
    case proto::tfjs::DT_INT64: return at::kLong;
    case proto::tfjs::DT_BOOL: return at::kBool;
    default:
      c.Fail("dtype " + proto::tfjs::DataType_Name(type) + " is not supported (float, double, int32, int64, bool)");
  }
}

// ---- layouts ----

at::Tensor Logical(const Value& v) { return v.nchw ? v.t.permute({0, 2, 3, 1}) : v.t; }

at::Tensor AsNchw(const Context& c, const Value& v) {
  if (v.nchw) return v.t;
  if (v.t.dim() != 4) c.Fail("expects a 4-D NHWC tensor, got shape " + c10::str(v.t.sizes()));
  return v.t.permute({0, 3, 1, 2});
}

// Logical rank of a value.
int64_t Rank(const Value& v) { return v.t.dim(); }

// A TensorFlow-layout tensor of rank <= 4 as it broadcasts against a 4-D tensor stored NCHW: numpy broadcasting
// aligns trailing axes, so it is first extended to rank 4 with leading ones, then permuted like the activation.
at::Tensor BroadcastAsNchw(const Value& v) {
  if (v.nchw) return v.t;
  std::vector<int64_t> shape(4 - v.t.dim(), 1);
  for (const int64_t d : v.t.sizes()) shape.push_back(d);
  return v.t.reshape(shape).permute({0, 3, 1, 2});
}

// Where logical NHWC axis `axis` lives in NCHW storage.
int64_t NchwAxis(int64_t axis) {
  static constexpr int64_t kMap[4] = {0, 2, 3, 1};
  return kMap[axis];
}

std::vector<int64_t> Ints(const Context& c, const Value& v, const std::string& what) {
  const at::Tensor t = v.t.to(at::kCPU);
  if (t.scalar_type() != at::kInt && t.scalar_type() != at::kLong) {
    c.Fail(what + " must be an int32 or int64 tensor, got " + std::string(c10::toString(t.scalar_type())));
  }
  const at::Tensor flat = t.to(at::kLong).contiguous().reshape({-1});
  return std::vector<int64_t>(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
}

int64_t ScalarInt(const Context& c, const Value& v, const std::string& what) {
  const std::vector<int64_t> values = Ints(c, v, what);
  if (values.size() != 1) c.Fail(what + " must hold one value, got " + std::to_string(values.size()));
  return values[0];
}

int64_t NormalizeAxis(const Context& c, int64_t axis, int64_t rank, const std::string& what) {
  if (axis < -rank || axis >= rank) {
    c.Fail(what + " " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

using Values = std::vector<Value>;

Values One(at::Tensor t, bool nchw = false) { return {Value{std::move(t), nchw}}; }

// ---- convolutions and pooling ----

struct Window {
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  SamePadding pad_h, pad_w;
};

// Strides, dilations and the padding of a 2-D window op on an NCHW input with kernel kh x kw.
Window WindowOf(const Context& c, const at::Tensor& x, int64_t kh, int64_t kw) {
  if (AttrString(c, "data_format", "NHWC") != "NHWC") {
    c.Fail("data_format '" + AttrString(c, "data_format", "") + "' is not supported (NHWC)");
  }
  const std::vector<int64_t> strides = AttrInts(c, "strides", {1, 1, 1, 1});
  const std::vector<int64_t> dilations = AttrInts(c, "dilations", {1, 1, 1, 1});
  if (strides.size() != 4 || strides[0] != 1 || strides[3] != 1 || strides[1] < 1 || strides[2] < 1) {
    c.Fail("strides must be [1, h, w, 1] with h, w >= 1");
  }
  if (dilations.size() != 4 || dilations[0] != 1 || dilations[3] != 1 || dilations[1] < 1 || dilations[2] < 1) {
    c.Fail("dilations must be [1, h, w, 1] with h, w >= 1");
  }
  Window w;
  w.stride_h = strides[1];
  w.stride_w = strides[2];
  w.dilation_h = dilations[1];
  w.dilation_w = dilations[2];
  const std::string padding = AttrString(c, "padding", "");
  if (padding == "SAME") {
    w.pad_h = ComputeSamePadding(x.size(2), kh, w.stride_h, w.dilation_h);
    w.pad_w = ComputeSamePadding(x.size(3), kw, w.stride_w, w.dilation_w);
  } else if (padding == "EXPLICIT") {
    const std::vector<int64_t> p = AttrInts(c, "explicit_paddings", {});
    if (p.size() != 8 || p[0] != 0 || p[1] != 0 || p[6] != 0 || p[7] != 0 ||
        std::any_of(p.begin(), p.end(), [](int64_t v) { return v < 0; })) {
      c.Fail("explicit_paddings must be 8 non-negative values padding H and W only");
    }
    w.pad_h = {p[2], p[3]};
    w.pad_w = {p[4], p[5]};
  } else if (padding != "VALID") {
    c.Fail("padding '" + padding + "' is not supported (SAME, VALID, EXPLICIT)");
  }
  return w;
}

at::Tensor Pad2d(const at::Tensor& x, const Window& w, double value) {
  if (w.pad_h.before == 0 && w.pad_h.after == 0 && w.pad_w.before == 0 && w.pad_w.after == 0) return x;
  return at::constant_pad_nd(x, {w.pad_w.before, w.pad_w.after, w.pad_h.before, w.pad_h.after}, value);
}

// NCHW convolution with TensorFlow's padding; symmetric padding goes to the convolution itself (no copy).
at::Tensor Convolve(const Context& c, const at::Tensor& x, const at::Tensor& weight, int64_t groups) {
  if (x.size(1) != weight.size(1) * groups) {
    c.Fail("input has " + std::to_string(x.size(1)) + " channels, the filter expects " +
           std::to_string(weight.size(1) * groups));
  }
  const Window w = WindowOf(c, x, weight.size(2), weight.size(3));
  if (w.pad_h.before == w.pad_h.after && w.pad_w.before == w.pad_w.after) {
    return at::conv2d(x, weight, {}, {w.stride_h, w.stride_w}, at::IntArrayRef({w.pad_h.before, w.pad_w.before}),
                      {w.dilation_h, w.dilation_w}, groups);
  }
  return at::conv2d(Pad2d(x, w, 0.0), weight, {}, {w.stride_h, w.stride_w}, at::IntArrayRef({0, 0}),
                    {w.dilation_h, w.dilation_w}, groups);
}

// Conv2D's HWIO filter as LibTorch's OIHW.
at::Tensor ConvFilter(const at::Tensor& hwio) { return hwio.permute({3, 2, 0, 1}).contiguous(); }

// DepthwiseConv2dNative's [kh, kw, C, M] filter as a grouped-convolution weight [C*M, 1, kh, kw]: TensorFlow's
// output channel c*M + m is group c's m-th output, which is LibTorch's order for groups = C.
at::Tensor DepthwiseFilter(const at::Tensor& f) {
  return f.reshape({f.size(0), f.size(1), f.size(2) * f.size(3)}).permute({2, 0, 1}).unsqueeze(1).contiguous();
}

bool IsDepthwise(const std::string& op) {
  return op == "DepthwiseConv2dNative" || op == "FusedDepthwiseConv2dNative";
}

bool IsConvolution(const std::string& op) {
  return op == "Conv2D" || op == "_FusedConv2D" || IsDepthwise(op);
}

// The fused post-ops of _FusedConv2D / FusedDepthwiseConv2dNative that are supported: BiasAdd, then optionally
// an activation.
void CheckFusedOps(const Context& c, int inputs) {
  const std::vector<std::string> fused = AttrStrings(c, "fused_ops");
  const int64_t num_args = AttrInt(c, "num_args", 0);
  if (fused.empty() || fused[0] != "BiasAdd" || fused.size() > 2 ||
      (fused.size() == 2 && fused[1] != "Relu" && fused[1] != "Relu6")) {
    std::string list;
    for (const std::string& f : fused) list += (list.empty() ? "" : ", ") + f;
    c.Fail("fused_ops [" + list + "] are not supported (BiasAdd, optionally followed by Relu or Relu6)");
  }
  if (num_args != 1 || inputs != 3) c.Fail("BiasAdd needs num_args 1 and 3 inputs");
}

Values ConvolutionKernel(const Context& c, const Values& in, const at::Tensor& prepared_filter) {
  const at::Tensor x = AsNchw(c, in[0]);
  const bool depthwise = IsDepthwise(c.def.op());
  at::Tensor weight = prepared_filter;
  if (!weight.defined()) {
    const at::Tensor f = Logical(in[1]);
    if (f.dim() != 4) c.Fail("filter must be 4-D, got shape " + c10::str(f.sizes()));
    weight = depthwise ? DepthwiseFilter(f) : ConvFilter(f);
  }
  const int64_t groups = depthwise ? x.size(1) : 1;
  at::Tensor y = Convolve(c, x, weight, groups);
  if (c.def.op() == "_FusedConv2D" || c.def.op() == "FusedDepthwiseConv2dNative") {
    const at::Tensor bias = Logical(in[2]);
    if (bias.dim() != 1 || bias.size(0) != y.size(1)) {
      c.Fail("bias has shape " + c10::str(bias.sizes()) + ", expected [" + std::to_string(y.size(1)) + "]");
    }
    y = y + bias.view({1, -1, 1, 1});
    const std::vector<std::string> fused = AttrStrings(c, "fused_ops");
    if (fused.size() == 2) y = fused[1] == "Relu" ? at::relu(y) : at::clamp(y, 0, 6);
  }
  return One(y, /*nchw=*/true);
}

Values MaxPoolKernel(const Context& c, const Values& in) {
  const at::Tensor x = AsNchw(c, in[0]);
  const std::vector<int64_t> k = AttrInts(c, "ksize", {});
  if (k.size() != 4 || k[0] != 1 || k[3] != 1 || k[1] < 1 || k[2] < 1) c.Fail("ksize must be [1, h, w, 1]");
  const Window w = WindowOf(c, x, k[1], k[2]);
  // Padded cells never win a max: -inf is TensorFlow's "ignore".
  const at::Tensor padded = Pad2d(x, w, -std::numeric_limits<double>::infinity());
  return One(at::max_pool2d(padded, {k[1], k[2]}, {w.stride_h, w.stride_w}), /*nchw=*/true);
}

// ---- other image ops ----

Values PadKernel(const Context& c, const Values& in) {
  const std::vector<int64_t> p = Ints(c, in[1], "paddings");
  const int64_t rank = Rank(in[0]);
  if (static_cast<int64_t>(p.size()) != 2 * rank) {
    c.Fail("paddings has " + std::to_string(p.size()) + " values for a rank-" + std::to_string(rank) + " input");
  }
  if (std::any_of(p.begin(), p.end(), [](int64_t v) { return v < 0; })) c.Fail("negative paddings");
  // constant_pad_nd takes (before, after) pairs from the last stored axis backwards.
  std::vector<int64_t> pads;
  if (in[0].nchw) {
    for (const int64_t logical : {2, 1, 3, 0}) {
      pads.push_back(p[2 * logical]);
      pads.push_back(p[2 * logical + 1]);
    }
  } else {
    for (int64_t axis = rank - 1; axis >= 0; --axis) {
      pads.push_back(p[2 * axis]);
      pads.push_back(p[2 * axis + 1]);
    }
  }
  return One(at::constant_pad_nd(in[0].t, pads, 0), in[0].nchw);
}

// Source rows (or columns) of ResizeBilinear, as TF.js computes them (tfjs-backend-cpu ResizeBilinear).
struct Taps {
  at::Tensor lo, hi, frac;
};

Taps ResizeTaps(int64_t in, int64_t out, bool align_corners, bool half_pixel, c10::Device device) {
  const bool align = align_corners && out > 1;
  const double ratio = static_cast<double>(align ? in - 1 : in) / static_cast<double>(align ? out - 1 : out);
  std::vector<int64_t> lo(out), hi(out);
  std::vector<float> frac(out);
  for (int64_t i = 0; i < out; ++i) {
    const double src = half_pixel ? ratio * (static_cast<double>(i) + 0.5) - 0.5 : ratio * static_cast<double>(i);
    const double floor = std::max(0.0, std::floor(src));
    lo[i] = static_cast<int64_t>(floor);
    hi[i] = std::min(in - 1, static_cast<int64_t>(std::ceil(src)));
    frac[i] = static_cast<float>(src - floor);
  }
  const auto opts = at::TensorOptions().device(device);
  return {at::tensor(lo, opts.dtype(at::kLong)), at::tensor(hi, opts.dtype(at::kLong)),
          at::tensor(frac, opts.dtype(at::kFloat))};
}

Values ResizeBilinearKernel(const Context& c, const Values& in) {
  const at::Tensor x = AsNchw(c, in[0]);
  const std::vector<int64_t> size = Ints(c, in[1], "size");
  if (size.size() != 2 || size[0] < 1 || size[1] < 1) c.Fail("size must be two positive values");
  const bool align_corners = AttrBool(c, "align_corners", false);
  const bool half_pixel = AttrBool(c, "half_pixel_centers", false);
  if (align_corners && half_pixel) c.Fail("align_corners and half_pixel_centers cannot both be set");
  const Taps rows = ResizeTaps(x.size(2), size[0], align_corners, half_pixel, x.device());
  const Taps cols = ResizeTaps(x.size(3), size[1], align_corners, half_pixel, x.device());
  const at::Tensor xf = x.is_floating_point() ? x : x.to(at::kFloat);
  const at::Tensor col_frac = cols.frac.to(xf.scalar_type()).view({1, 1, 1, -1});
  auto lerp_cols = [&](const at::Tensor& r) {
    const at::Tensor left = r.index_select(3, cols.lo);
    return left + (r.index_select(3, cols.hi) - left) * col_frac;
  };
  const at::Tensor top = lerp_cols(xf.index_select(2, rows.lo));
  const at::Tensor bottom = lerp_cols(xf.index_select(2, rows.hi));
  return One(top + (bottom - top) * rows.frac.to(xf.scalar_type()).view({1, 1, -1, 1}), /*nchw=*/true);
}

Values DepthToSpaceKernel(const Context& c, const Values& in) {
  if (AttrString(c, "data_format", "NHWC") != "NHWC") c.Fail("only data_format NHWC is supported");
  const int64_t b = AttrInt(c, "block_size", 0);
  const at::Tensor x = AsNchw(c, in[0]);
  if (b < 2 || x.size(1) % (b * b) != 0) {
    c.Fail("block_size " + std::to_string(b) + " must be >= 2 and divide the " + std::to_string(x.size(1)) +
           " channels by its square");
  }
  // NHWC: out[n, h*b + i, w*b + j, c] = in[n, h, w, (i*b + j)*C + c].
  const int64_t n = x.size(0), channels = x.size(1) / (b * b), h = x.size(2), w = x.size(3);
  const at::Tensor y =
      x.reshape({n, b, b, channels, h, w}).permute({0, 3, 4, 1, 5, 2}).reshape({n, channels, h * b, w * b});
  return One(y, /*nchw=*/true);
}

// ---- element-wise ----

Values Binary(const Values& in, const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& f) {
  const Value& a = in[0];
  const Value& b = in[1];
  if ((a.nchw || b.nchw) && Rank(a) <= 4 && Rank(b) <= 4) return One(f(BroadcastAsNchw(a), BroadcastAsNchw(b)), true);
  return One(f(Logical(a), Logical(b)));
}

Values Unary(const Values& in, const std::function<at::Tensor(const at::Tensor&)>& f) {
  return One(f(in[0].t), in[0].nchw);
}

// ---- shapes and indexing (TensorFlow layout) ----

Values CastKernel(const Context& c, const Values& in) {
  return One(in[0].t.to(TorchType(c, AttrType(c, "DstT", proto::tfjs::DT_FLOAT))), in[0].nchw);
}

Values ShapeKernel(const Context& c, const Values& in) {
  const at::ScalarType type = TorchType(c, AttrType(c, "out_type", proto::tfjs::DT_INT32));
  const at::Tensor x = Logical(in[0]);
  return One(at::tensor(std::vector<int64_t>(x.sizes().begin(), x.sizes().end()), at::TensorOptions().dtype(at::kLong))
                 .to(c.device, type));
}

Values ReshapeKernel(const Context& c, const Values& in) {
  return One(Logical(in[0]).reshape(Ints(c, in[1], "shape")));
}

Values SqueezeKernel(const Context& c, const Values& in) {
  at::Tensor x = Logical(in[0]);
  std::vector<int64_t> dims = AttrInts(c, "squeeze_dims", {});
  if (dims.empty()) return One(x.squeeze());
  for (int64_t& d : dims) {
    d = NormalizeAxis(c, d, x.dim(), "squeeze_dims");
    if (x.size(d) != 1) c.Fail("cannot squeeze axis " + std::to_string(d) + " of size " + std::to_string(x.size(d)));
  }
  std::sort(dims.rbegin(), dims.rend());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  for (const int64_t d : dims) x = x.squeeze(d);
  return One(x);
}

Values ExpandDimsKernel(const Context& c, const Values& in) {
  const at::Tensor x = Logical(in[0]);
  const int64_t axis = NormalizeAxis(c, ScalarInt(c, in[1], "axis"), x.dim() + 1, "axis");
  return One(x.unsqueeze(axis));
}

Values PackKernel(const Context& c, const Values& in) {
  std::vector<at::Tensor> parts;
  for (const Value& v : in) parts.push_back(Logical(v));
  const int64_t axis = NormalizeAxis(c, AttrInt(c, "axis", 0), parts[0].dim() + 1, "axis");
  return One(at::stack(parts, axis));
}

Values UnpackKernel(const Context& c, const Values& in) {
  const at::Tensor x = Logical(in[0]);
  const int64_t axis = NormalizeAxis(c, AttrInt(c, "axis", 0), x.dim(), "axis");
  const int64_t num = AttrInt(c, "num", x.size(axis));
  if (num != x.size(axis)) {
    c.Fail("num " + std::to_string(num) + " differs from the size " + std::to_string(x.size(axis)) + " of axis " +
           std::to_string(axis));
  }
  Values out;
  for (const at::Tensor& t : x.unbind(axis)) out.push_back(Value{t, false});
  return out;
}

Values ConcatKernel(const Context& c, const Values& in) {
  const Values parts(in.begin(), in.end() - 1);
  const int64_t rank = Rank(parts[0]);
  const int64_t axis = NormalizeAxis(c, ScalarInt(c, in.back(), "axis"), rank, "axis");
  const bool any_nchw = std::any_of(parts.begin(), parts.end(), [](const Value& v) { return v.nchw; });
  std::vector<at::Tensor> tensors;
  if (any_nchw && rank == 4) {
    for (const Value& v : parts) tensors.push_back(AsNchw(c, v));
    return One(at::cat(tensors, NchwAxis(axis)), /*nchw=*/true);
  }
  for (const Value& v : parts) tensors.push_back(Logical(v));
  return One(at::cat(tensors, axis));
}

Values ArgMaxKernel(const Context& c, const Values& in) {
  const at::Tensor x = Logical(in[0]);
  const int64_t axis = NormalizeAxis(c, ScalarInt(c, in[1], "dimension"), x.dim(), "dimension");
  return One(x.argmax(axis).to(TorchType(c, AttrType(c, "output_type", proto::tfjs::DT_INT64))));
}

Values GatherNdKernel(const Context& c, const Values& in) {
  const at::Tensor params = Logical(in[0]);
  const at::Tensor indices = Logical(in[1]);
  if (indices.scalar_type() != at::kInt && indices.scalar_type() != at::kLong) c.Fail("indices must be int32/int64");
  if (indices.dim() < 1) c.Fail("indices must have rank >= 1");
  const int64_t k = indices.size(-1);
  if (k > params.dim()) {
    c.Fail("index depth " + std::to_string(k) + " exceeds the params rank " + std::to_string(params.dim()));
  }
  const at::Tensor idx = indices.to(at::kLong).reshape({-1, k});
  std::vector<int64_t> out_shape(indices.sizes().begin(), indices.sizes().end() - 1);
  std::vector<int64_t> flat_shape = {1};
  at::Tensor linear = at::zeros({idx.size(0)}, idx.options());
  for (int64_t d = 0; d < k; ++d) {
    const at::Tensor column = idx.select(1, d);
    if (idx.size(0) > 0 && (column.min().item<int64_t>() < 0 || column.max().item<int64_t>() >= params.size(d))) {
      c.Fail("an index of axis " + std::to_string(d) + " is outside [0, " + std::to_string(params.size(d)) + ")");
    }
    linear = linear * params.size(d) + column;
    flat_shape[0] *= params.size(d);
  }
  for (int64_t d = k; d < params.dim(); ++d) {
    flat_shape.push_back(params.size(d));
    out_shape.push_back(params.size(d));
  }
  return One(params.reshape(flat_shape).index_select(0, linear).reshape(out_shape));
}

// TensorFlow's StridedSlice: begin/end/strides per sparse dimension, with begin/end masks, one ellipsis, new
// axes and shrunk (indexed) axes.
Values StridedSliceKernel(const Context& c, const Values& in) {
  at::Tensor x = Logical(in[0]);
  const std::vector<int64_t> begin = Ints(c, in[1], "begin");
  const std::vector<int64_t> end = Ints(c, in[2], "end");
  const std::vector<int64_t> strides = Ints(c, in[3], "strides");
  if (end.size() != begin.size() || strides.size() != begin.size()) c.Fail("begin, end and strides differ in length");
  const int64_t begin_mask = AttrInt(c, "begin_mask", 0), end_mask = AttrInt(c, "end_mask", 0);
  const int64_t ellipsis_mask = AttrInt(c, "ellipsis_mask", 0), new_axis_mask = AttrInt(c, "new_axis_mask", 0);
  const int64_t shrink_mask = AttrInt(c, "shrink_axis_mask", 0);
  struct Spec {
    bool new_axis = false, shrink = false, begin_masked = true, end_masked = true;
    int64_t begin = 0, end = 0, stride = 1;
  };
  const auto n = static_cast<int64_t>(begin.size());
  auto bit = [](int64_t mask, int64_t i) { return ((mask >> i) & 1) != 0; };
  int64_t real = 0;  // sparse entries that consume an input axis
  for (int64_t i = 0; i < n; ++i) real += !bit(ellipsis_mask, i) && !bit(new_axis_mask, i);
  if (real > x.dim()) c.Fail("slices " + std::to_string(real) + " axes of a rank-" + std::to_string(x.dim()) + " input");
  std::vector<Spec> dense;
  bool ellipsis = false;
  for (int64_t i = 0; i < n; ++i) {
    if (bit(ellipsis_mask, i)) {
      if (ellipsis) c.Fail("more than one ellipsis");
      ellipsis = true;
      for (int64_t k = 0; k < x.dim() - real; ++k) dense.push_back(Spec{});
    } else if (bit(new_axis_mask, i)) {
      Spec s;
      s.new_axis = true;
      dense.push_back(s);
    } else {
      Spec s;
      s.begin = begin[i];
      s.end = end[i];
      s.stride = strides[i];
      s.begin_masked = bit(begin_mask, i);
      s.end_masked = bit(end_mask, i);
      s.shrink = bit(shrink_mask, i);
      dense.push_back(s);
    }
  }
  if (!ellipsis) {
    for (int64_t k = 0; k < x.dim() - real; ++k) dense.push_back(Spec{});
  }
  int64_t axis = 0;  // position in x as it is being sliced
  for (const Spec& s : dense) {
    if (s.new_axis) {
      x = x.unsqueeze(axis++);
      continue;
    }
    const int64_t size = x.size(axis);
    if (s.shrink) {
      const int64_t index = s.begin < 0 ? s.begin + size : s.begin;
      if (index < 0 || index >= size) {
        c.Fail("index " + std::to_string(s.begin) + " is out of range for an axis of size " + std::to_string(size));
      }
      x = x.select(axis, index);
      continue;
    }
    if (s.stride == 0) c.Fail("stride 0");
    auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); };
    int64_t count = 0, start = 0;
    if (s.stride > 0) {
      start = s.begin_masked ? 0 : clamp(s.begin < 0 ? s.begin + size : s.begin, 0, size);
      const int64_t stop = s.end_masked ? size : clamp(s.end < 0 ? s.end + size : s.end, 0, size);
      count = std::max<int64_t>(0, (stop - start + s.stride - 1) / s.stride);
    } else {
      start = s.begin_masked ? size - 1 : clamp(s.begin < 0 ? s.begin + size : s.begin, -1, size - 1);
      const int64_t stop = s.end_masked ? -1 : clamp(s.end < 0 ? s.end + size : s.end, -1, size - 1);
      count = std::max<int64_t>(0, (start - stop - s.stride - 1) / -s.stride);
    }
    if (s.stride == 1) {
      x = x.narrow(axis, start, count);
    } else {
      const at::Tensor index =
          at::arange(count, at::TensorOptions().dtype(at::kLong).device(x.device())) * s.stride + start;
      x = x.index_select(axis, index);
    }
    ++axis;
  }
  return One(x);
}

// ---- the op table ----

using Kernel = std::function<Values(const Context&, const Values&, const at::Tensor& prepared)>;

struct OpSpec {
  int min_inputs;
  int max_inputs;  // -1: any number
  Kernel kernel;
};

template <typename F>
Kernel Simple(F f) {
  return [f](const Context& c, const Values& in, const at::Tensor&) { return f(c, in); };
}

Kernel BinaryOp(at::Tensor (*f)(const at::Tensor&, const at::Tensor&)) {
  return [f](const Context&, const Values& in, const at::Tensor&) { return Binary(in, f); };
}

// Element-wise, layout-preserving.
Kernel UnaryOp(at::Tensor (*f)(const at::Tensor&)) {
  return [f](const Context&, const Values& in, const at::Tensor&) { return Unary(in, f); };
}

const std::unordered_map<std::string, OpSpec>& OpTable() {
  static const auto* table = new std::unordered_map<std::string, OpSpec>{
      {"Const", {0, 0, [](const Context&, const Values&, const at::Tensor& value) { return One(value); }}},
      {"Placeholder", {0, 0, nullptr}},  // fed by Run
      {"Identity", {1, 1, Simple([](const Context&, const Values& in) { return Values{in[0]}; })}},
      {"Conv2D", {2, 2, ConvolutionKernel}},
      {"_FusedConv2D", {3, 3, ConvolutionKernel}},
      {"DepthwiseConv2dNative", {2, 2, ConvolutionKernel}},
      {"FusedDepthwiseConv2dNative", {3, 3, ConvolutionKernel}},
      {"MaxPool", {1, 1, Simple(MaxPoolKernel)}},
      {"Pad", {2, 2, Simple(PadKernel)}},
      {"ResizeBilinear", {2, 2, Simple(ResizeBilinearKernel)}},
      {"DepthToSpace", {1, 1, Simple(DepthToSpaceKernel)}},
      {"AddV2", {2, 2, BinaryOp([](const at::Tensor& a, const at::Tensor& b) { return a + b; })}},
      {"Add", {2, 2, BinaryOp([](const at::Tensor& a, const at::Tensor& b) { return a + b; })}},
      {"Sub", {2, 2, BinaryOp([](const at::Tensor& a, const at::Tensor& b) { return a - b; })}},
      {"Mul", {2, 2, BinaryOp([](const at::Tensor& a, const at::Tensor& b) { return a * b; })}},
      {"RealDiv", {2, 2, BinaryOp([](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); })}},
      {"FloorDiv", {2, 2, BinaryOp([](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor"); })}},
      {"SquaredDifference", {2, 2, BinaryOp([](const at::Tensor& a, const at::Tensor& b) {
                               const at::Tensor d = a - b;
                               return d * d;
                             })}},
      {"Relu", {1, 1, UnaryOp([](const at::Tensor& t) { return at::relu(t); })}},
      {"Relu6", {1, 1, UnaryOp([](const at::Tensor& t) { return at::clamp(t, 0, 6); })}},
      {"Sigmoid", {1, 1, UnaryOp([](const at::Tensor& t) { return at::sigmoid(t); })}},
      {"Sqrt", {1, 1, UnaryOp([](const at::Tensor& t) { return at::sqrt(t); })}},
      {"Cast", {1, 1, Simple(CastKernel)}},
      {"Shape", {1, 1, Simple(ShapeKernel)}},
      {"Reshape", {2, 2, Simple(ReshapeKernel)}},
      {"Squeeze", {1, 1, Simple(SqueezeKernel)}},
      {"ExpandDims", {2, 2, Simple(ExpandDimsKernel)}},
      {"Pack", {1, -1, Simple(PackKernel)}},
      {"Unpack", {1, 1, Simple(UnpackKernel)}},
      {"ConcatV2", {2, -1, Simple(ConcatKernel)}},
      {"ArgMax", {2, 2, Simple(ArgMaxKernel)}},
      {"GatherNd", {2, 2, Simple(GatherNdKernel)}},
      {"StridedSlice", {4, 4, Simple(StridedSliceKernel)}},
  };
  return *table;
}

struct InputRef {
  int node = 0;
  int output = 0;
};

// "node", "node:k"; control inputs ("^node") are returned with output -1.
std::pair<std::string, int> ParseInput(const std::string& input, const std::string& where) {
  if (!input.empty() && input[0] == '^') return {input.substr(1), -1};
  const size_t colon = input.rfind(':');
  if (colon == std::string::npos) return {input, 0};
  const std::string digits = input.substr(colon + 1);
  if (digits.empty() || digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) {
    throw std::runtime_error(where + ": malformed tensor name '" + input + "' (expected node or node:k)");
  }
  return {input.substr(0, colon), std::stoi(digits)};
}

}  // namespace

struct GraphExecutor::Impl {
  struct Node {
    const NodeDef* def = nullptr;
    const OpSpec* spec = nullptr;
    std::vector<InputRef> inputs;
    at::Tensor prepared;  // Const: its value; convolution with a Const filter: the filter in LibTorch's layout
  };

  std::string source;
  c10::Device device;
  proto::tfjs::GraphDef graph;
  std::vector<Node> nodes;
  std::unordered_map<std::string, int> index;
  std::vector<int> order;  // a topological order of all nodes

  Impl(const GraphModel& model, c10::Device dev) : source(model.source), device(dev), graph(model.graph) {
    const auto& table = OpTable();
    nodes.resize(graph.node_size());
    for (int i = 0; i < graph.node_size(); ++i) {
      const NodeDef& def = graph.node(i);
      if (!index.emplace(def.name(), i).second) {
        throw std::runtime_error(source + ": two nodes are named '" + def.name() + "'");
      }
      const auto it = table.find(def.op());
      if (it == table.end()) {
        std::string supported;
        for (const std::string& op : SupportedOps()) supported += (supported.empty() ? "" : ", ") + op;
        throw std::runtime_error(source + ": node '" + def.name() + "' has op '" + def.op() +
                                 "', which the executor does not support (supported: " + supported + ")");
      }
      nodes[i].def = &def;
      nodes[i].spec = &it->second;
    }
    for (Node& node : nodes) {
      const std::string where = source + ": node '" + node.def->name() + "'";
      for (const std::string& input : node.def->input()) {
        const auto [name, output] = ParseInput(input, where);
        const auto it = index.find(name);
        if (it == index.end()) throw std::runtime_error(where + " reads '" + input + "', which is no node of the graph");
        if (output >= 0) node.inputs.push_back({it->second, output});
      }
      const int n = static_cast<int>(node.inputs.size());
      if (n < node.spec->min_inputs || (node.spec->max_inputs >= 0 && n > node.spec->max_inputs)) {
        throw std::runtime_error(where + " (" + node.def->op() + ") has " + std::to_string(n) + " inputs, expected " +
                                 std::to_string(node.spec->min_inputs) +
                                 (node.spec->max_inputs == node.spec->min_inputs
                                      ? std::string()
                                      : node.spec->max_inputs < 0 ? " or more"
                                                                  : " to " + std::to_string(node.spec->max_inputs)));
      }
    }
    SortTopologically();
    for (Node& node : nodes) Prepare(model, node);
  }

  void SortTopologically() {
    std::vector<int> pending(nodes.size(), 0);
    std::vector<std::vector<int>> consumers(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      std::unordered_set<int> distinct;
      // Control dependencies order nodes too, but carry no data; the executor ignores them (TF.js does as well).
      for (const InputRef& in : nodes[i].inputs) distinct.insert(in.node);
      pending[i] = static_cast<int>(distinct.size());
      for (const int d : distinct) consumers[d].push_back(static_cast<int>(i));
    }
    std::vector<int> ready;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (pending[i] == 0) ready.push_back(static_cast<int>(i));
    }
    while (!ready.empty()) {
      const int i = ready.back();
      ready.pop_back();
      order.push_back(i);
      for (const int consumer : consumers[i]) {
        if (--pending[consumer] == 0) ready.push_back(consumer);
      }
    }
    if (order.size() != nodes.size()) {
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (pending[i] > 0) {
          throw std::runtime_error(source + ": the graph has a cycle through node '" + nodes[i].def->name() + "'");
        }
      }
    }
  }

  void Prepare(const GraphModel& model, Node& node) {
    const Context c{source, *node.def, device};
    const std::string& op = node.def->op();
    if (op == "Const") {
      node.prepared = ConstValue(model, *node.def).to(device);
      return;
    }
    if (!IsConvolution(op)) return;
    if (op == "_FusedConv2D" || op == "FusedDepthwiseConv2dNative") {
      CheckFusedOps(c, static_cast<int>(node.inputs.size()));
    }
    const Node& filter = nodes[node.inputs[1].node];
    if (filter.def->op() == "Const") {
      const at::Tensor f = ConstValue(model, *filter.def);
      if (f.dim() != 4) c.Fail("filter must be 4-D, got shape " + c10::str(f.sizes()));
      node.prepared = (IsDepthwise(op) ? DepthwiseFilter(f) : ConvFilter(f)).to(device);
    }
  }

  // Which nodes the fetches need.
  std::vector<bool> Needed(const std::vector<int>& fetched) const {
    std::vector<bool> needed(nodes.size(), false);
    std::vector<int> stack(fetched);
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      if (needed[i]) continue;
      needed[i] = true;
      for (const InputRef& in : nodes[i].inputs) stack.push_back(in.node);
    }
    return needed;
  }

  Value Feed(const Node& node, const std::map<std::string, at::Tensor>& feeds) const {
    const Context c{source, *node.def, device};
    const auto it = feeds.find(node.def->name());
    if (it == feeds.end()) c.Fail("this input is needed but was not fed");
    const at::Tensor& t = it->second;
    const at::ScalarType type = TorchType(c, AttrType(c, "dtype", proto::tfjs::DT_FLOAT));
    if (t.scalar_type() != type) {
      c.Fail("input dtype is " + std::string(c10::toString(t.scalar_type())) + ", the graph expects " +
             std::string(c10::toString(type)));
    }
    const AttrValue* shape = FindAttr(*node.def, "shape");
    if (shape != nullptr && shape->has_shape() && !shape->shape().unknown_rank()) {
      const auto& dims = shape->shape().dim();
      bool ok = t.dim() == dims.size();
      for (int d = 0; ok && d < dims.size(); ++d) ok = dims[d].size() < 0 || dims[d].size() == t.size(d);
      if (!ok) {
        std::string want;
        for (const auto& d : dims) want += (want.empty() ? "" : ", ") + (d.size() < 0 ? "?" : std::to_string(d.size()));
        c.Fail("input shape " + c10::str(t.sizes()) + " does not match the graph's [" + want + "]");
      }
    }
    return Value{t.to(device), false};
  }

  std::vector<at::Tensor> Run(const std::map<std::string, at::Tensor>& feeds,
                              const std::vector<std::string>& fetches) const {
    for (const auto& [name, tensor] : feeds) {
      const auto it = index.find(name);
      if (it == index.end() || nodes[it->second].def->op() != "Placeholder") {
        throw std::runtime_error(source + ": feed '" + name + "' names no Placeholder of the graph");
      }
    }
    std::vector<InputRef> targets;
    std::vector<int> fetched;
    for (const std::string& fetch : fetches) {
      const auto [name, output] = ParseInput(fetch, source);
      const auto it = index.find(name);
      if (it == index.end() || output < 0) throw std::runtime_error(source + ": fetch '" + fetch + "' names no node");
      targets.push_back({it->second, output});
      fetched.push_back(it->second);
    }
    const std::vector<bool> needed = Needed(fetched);
    // Outputs are dropped after their last reader, so a run holds only the live activations.
    std::vector<int> readers(nodes.size(), 0);
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!needed[i]) continue;
      for (const InputRef& in : nodes[i].inputs) ++readers[in.node];
    }
    for (const int f : fetched) ++readers[f];
    std::vector<Values> values(nodes.size());
    for (const int i : order) {
      if (!needed[i]) continue;
      const Node& node = nodes[i];
      const Context c{source, *node.def, device};
      Values in;
      for (const InputRef& ref : node.inputs) {
        const Values& produced = values[ref.node];
        if (ref.output >= static_cast<int>(produced.size())) {
          c.Fail("reads output " + std::to_string(ref.output) + " of '" + nodes[ref.node].def->name() +
                 "', which has " + std::to_string(produced.size()));
        }
        in.push_back(produced[ref.output]);
      }
      try {
        values[i] = node.def->op() == "Placeholder" ? Values{Feed(node, feeds)} : node.spec->kernel(c, in, node.prepared);
      } catch (const c10::Error& e) {
        c.Fail(e.what_without_backtrace());
      }
      in.clear();
      for (const InputRef& ref : node.inputs) {
        if (--readers[ref.node] == 0) values[ref.node].clear();
      }
    }
    std::vector<at::Tensor> out;
    for (size_t k = 0; k < targets.size(); ++k) {
      const Values& produced = values[targets[k].node];
      if (targets[k].output >= static_cast<int>(produced.size())) {
        throw std::runtime_error(source + ": fetch '" + fetches[k] + "': the node has " +
                                 std::to_string(produced.size()) + " outputs");
      }
      out.push_back(Logical(produced[targets[k].output]).contiguous());
    }
    return out;
  }
};

GraphExecutor::GraphExecutor(const GraphModel& model, c10::Device device)
    : impl_(std::make_unique<Impl>(model, device)) {}
GraphExecutor::~GraphExecutor() = default;
GraphExecutor::GraphExecutor(GraphExecutor&&) noexcept = default;
GraphExecutor& GraphExecutor::operator=(GraphExecutor&&) noexcept = default;

std::vector<at::Tensor> GraphExecutor::Run(const std::map<std::string, at::Tensor>& feeds,
                                           const std::vector<std::string>& fetches) const {
  return impl_->Run(feeds, fetches);
}

std::vector<std::string> GraphExecutor::InputNames() const {
  std::vector<std::string> names;
  for (const auto& node : impl_->nodes) {
    if (node.def->op() == "Placeholder") names.push_back(node.def->name());
  }
  return names;
}

c10::Device GraphExecutor::device() const { return impl_->device; }

std::vector<std::string> GraphExecutor::SupportedOps() {
  std::vector<std::string> ops;
  for (const auto& [name, spec] : OpTable()) ops.push_back(name);
  std::sort(ops.begin(), ops.end());
  return ops;
}

}  // namespace gcl::models::tfjs

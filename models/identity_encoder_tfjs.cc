#include "models/identity_encoder_tfjs.h"

#include <cmath>
#include <map>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "models/mobilenet_v2.h"

namespace gcl::models {
namespace {

using tfjs::GraphModel;
using proto::tfjs::NodeDef;

constexpr char kConv1Suffix[] = "Conv1/Conv2D_weights";

[[noreturn]] void Fail(const GraphModel& model, const std::string& message) {
  throw std::runtime_error(model.source + ": " + message);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The name scope of the backbone: the prefix of the one weight named ".../Conv1/Conv2D_weights".
std::string BackbonePrefix(const GraphModel& model) {
  std::string prefix;
  int found = 0;
  for (const auto& [name, tensor] : model.weights) {
    if (EndsWith(name, std::string("/") + kConv1Suffix)) {
      prefix = name.substr(0, name.size() - std::string(kConv1Suffix).size());
      ++found;
    }
  }
  if (found != 1) {
    Fail(model, std::to_string(found) + " weights named '.../" + kConv1Suffix +
                    "' (expected one: the stem of a Keras MobileNetV2, as in MoveNet)");
  }
  return prefix;
}

const torch::Tensor& Weight(const GraphModel& model, const std::string& name) {
  const auto it = model.weights.find(name);
  if (it == model.weights.end()) Fail(model, "no weight '" + name + "' (the MobileNetV2 backbone is incomplete)");
  return it->second;
}

std::string StringAttr(const NodeDef& node, const std::string& name) {
  const auto it = node.attr().find(name);
  return it == node.attr().end() ? "" : it->second.s();
}

std::vector<int64_t> IntsAttr(const NodeDef& node, const std::string& name) {
  const auto it = node.attr().find(name);
  if (it == node.attr().end()) return {};
  return std::vector<int64_t>(it->second.list().i().begin(), it->second.list().i().end());
}

std::vector<std::string> StringsAttr(const NodeDef& node, const std::string& name) {
  const auto it = node.attr().find(name);
  if (it == node.attr().end()) return {};
  return std::vector<std::string>(it->second.list().s().begin(), it->second.list().s().end());
}

// The node that reads `weight` as its filter, checked against what the module computes.
const NodeDef& CheckedConvNode(const GraphModel& model, const std::unordered_map<std::string, const NodeDef*>& by_filter,
                               const MobileNetV2Conv& conv, const std::string& weight, const std::string& bias) {
  const auto it = by_filter.find(weight);
  if (it == by_filter.end()) Fail(model, "no node reads the weight '" + weight + "' as a convolution filter");
  const NodeDef& node = *it->second;
  const std::string where = "node '" + node.name() + "' (" + conv.tf_name + "): ";
  const std::string op = conv.depthwise ? "FusedDepthwiseConv2dNative" : "_FusedConv2D";
  if (node.op() != op) Fail(model, where + "op " + node.op() + ", expected " + op);
  if (node.input_size() != 3 || node.input(2) != bias) Fail(model, where + "its bias is not '" + bias + "'");
  const std::vector<int64_t> strides = IntsAttr(node, "strides");
  if (strides != std::vector<int64_t>{1, conv.tf_stride, conv.tf_stride, 1}) {
    Fail(model, where + "strides differ from MobileNetV2's " + std::to_string(conv.tf_stride));
  }
  if (StringAttr(node, "padding") != "SAME") Fail(model, where + "padding is not SAME");
  std::vector<std::string> fused = {"BiasAdd"};
  if (conv.relu6) fused.push_back("Relu6");
  if (StringsAttr(node, "fused_ops") != fused) {
    Fail(model, where + (conv.relu6 ? "expected BiasAdd + Relu6" : "expected BiasAdd without activation"));
  }
  return node;
}

// A Const operand's values as 3 per-channel numbers (a single value repeats).
std::array<double, 3> PerChannel(const GraphModel& model, const NodeDef& node) {
  const torch::Tensor t = tfjs::ConstValue(model, node).to(torch::kDouble).reshape({-1});
  if (t.numel() != 1 && t.numel() != 3) {
    Fail(model, "node '" + node.name() + "' normalises the input with " + std::to_string(t.numel()) +
                    " values (expected 1 or 3)");
  }
  std::array<double, 3> v;
  for (int c = 0; c < 3; ++c) v[c] = t[t.numel() == 1 ? 0 : c].item<double>();
  return v;
}

// conv1_input = a * picture + b per channel, from the chain of Sub / Mul / Add / RealDiv nodes with a Const operand
// that feeds Conv1 (MoveNet: sub_1 = truediv_1 - 1, truediv_1 = sub * (1 / 127.5), sub = picture - 0).
void InputAffine(const GraphModel& model, const NodeDef& conv1, std::array<double, 3>* a, std::array<double, 3>* b) {
  a->fill(1.0);
  b->fill(0.0);
  const NodeDef* node = tfjs::FindNode(model, conv1.input(0));
  int steps = 0;
  while (node != nullptr && node->input_size() == 2) {
    const NodeDef* lhs = tfjs::FindNode(model, node->input(0));
    const NodeDef* rhs = tfjs::FindNode(model, node->input(1));
    if (lhs == nullptr || rhs == nullptr) break;
    const bool const_right = rhs->op() == "Const", const_left = lhs->op() == "Const";
    if (const_right == const_left) break;
    const std::string& op = node->op();
    const bool affine = op == "Sub" || op == "Mul" || op == "AddV2" || op == "Add" || (op == "RealDiv" && const_right);
    if (!affine) break;
    const std::array<double, 3> c = PerChannel(model, const_right ? *rhs : *lhs);
    // With conv1_input = a * v + b and v = f(u), rewrite in terms of u.
    for (int ch = 0; ch < 3; ++ch) {
      if (op == "Sub" && const_right) {
        (*b)[ch] -= (*a)[ch] * c[ch];
      } else if (op == "Sub") {
        (*b)[ch] += (*a)[ch] * c[ch];
        (*a)[ch] = -(*a)[ch];
      } else if (op == "Mul") {
        (*a)[ch] *= c[ch];
      } else if (op == "RealDiv") {
        (*a)[ch] /= c[ch];
      } else {
        (*b)[ch] += (*a)[ch] * c[ch];
      }
    }
    ++steps;
    node = const_right ? lhs : rhs;
  }
  if (steps == 0 || !std::isfinite((*a)[0] + (*a)[1] + (*a)[2])) {
    Fail(model, "cannot find how the graph normalises the picture before '" + conv1.name() + "'");
  }
}

}  // namespace

double MoveNetBackboneWidth(const GraphModel& model) {
  const torch::Tensor& conv1 = Weight(model, BackbonePrefix(model) + kConv1Suffix);
  if (conv1.dim() != 4) Fail(model, std::string(kConv1Suffix) + " is not a 4-D kernel");
  return static_cast<double>(conv1.size(3)) / 32.0;
}

TfjsImportReport ImportMoveNetBackbone(IdentityEncoder& net, const GraphModel& model, const InputNormalization& input) {
  if (net->options().backbone != Backbone::kMobileNetV2) {
    Fail(model, "E_id's backbone is " + BackboneName(net->options().backbone) +
                    "; MoveNet weights need model.backbone mobilenet_v2");
  }
  TfjsImportReport report;
  report.prefix = BackbonePrefix(model);
  report.file_width = MoveNetBackboneWidth(model);

  std::unordered_map<std::string, const NodeDef*> by_filter;
  for (const NodeDef& node : model.graph.node()) {
    if (node.input_size() >= 2) by_filter.emplace(node.input(1), &node);
  }
  std::map<std::string, torch::Tensor> params, buffers;
  for (const auto& p : net->named_parameters()) params[p.key()] = p.value();
  for (const auto& b : net->named_buffers()) buffers[b.key()] = b.value();
  std::map<std::string, double> eps;
  for (const auto& m : net->named_modules()) {
    if (const auto* bn = m.value()->as<torch::nn::BatchNorm2d>()) eps[m.key()] = bn->options.eps();
  }

  // Every check before the first copy, so a mismatch leaves the encoder as it was.
  struct Copy {
    torch::Tensor target, value;
  };
  std::vector<Copy> copies;
  const NodeDef* conv1 = nullptr;
  for (const MobileNetV2Conv& conv : MobileNetV2Convs()) {
    const std::string kind = conv.depthwise ? "/depthwise" : "/Conv2D";
    const std::string weight_name = report.prefix + conv.tf_name + kind + "_weights";
    const std::string bias_name = report.prefix + conv.tf_name + kind + "_bn_offset";
    const NodeDef& node = CheckedConvNode(model, by_filter, conv, weight_name, bias_name);
    if (conv.tf_name == "Conv1") conv1 = &node;
    const torch::Tensor& kernel = Weight(model, weight_name);
    const torch::Tensor& bias = Weight(model, bias_name);
    if (kernel.dim() != 4) Fail(model, "'" + weight_name + "' is not a 4-D kernel");
    const torch::Tensor oihw =
        conv.depthwise ? kernel.permute({2, 3, 0, 1}) : kernel.permute({3, 2, 0, 1});  // [kh,kw,C,1] -> [C,1,kh,kw]
    const torch::Tensor& target = params.at(conv.conv + ".weight");
    if (oihw.sizes() != target.sizes()) {
      Fail(model, "'" + weight_name + "' (HWIO " + c10::str(kernel.sizes()) + ") does not fit E_id's " + conv.conv +
                      ".weight " + c10::str(target.sizes()) + ": the file's MobileNetV2 has width " +
                      std::to_string(report.file_width) + ", E_id " + std::to_string(net->options().mobilenet_width) +
                      " (model.mobilenet_width)");
    }
    if (bias.dim() != 1 || bias.size(0) != oihw.size(0)) {
      Fail(model, "'" + bias_name + "' has shape " + c10::str(bias.sizes()) + ", expected [" +
                      std::to_string(oihw.size(0)) + "]");
    }
    copies.push_back({target, oihw});
    copies.push_back({params.at(conv.batch_norm + ".weight"), torch::ones_like(bias)});
    copies.push_back({params.at(conv.batch_norm + ".bias"), bias});
    copies.push_back({buffers.at(conv.batch_norm + ".running_mean"), torch::zeros_like(bias)});
    copies.push_back({buffers.at(conv.batch_norm + ".running_var"),
                      torch::full_like(bias, 1.0 - eps.at(conv.batch_norm))});
    ++report.convolutions;
  }
  std::array<double, 3> a, b;
  InputAffine(model, *conv1, &a, &b);
  // E_id's x = (rgb / 255 - mean) / std, so rgb = 255 * (x * std + mean) and conv1_input = a * rgb + b.
  torch::Tensor scale = torch::empty({3}, torch::kDouble), shift = torch::empty({3}, torch::kDouble);
  for (int c = 0; c < 3; ++c) {
    scale[c] = 255.0 * a[c] * input.std[c];
    shift[c] = 255.0 * a[c] * input.mean[c] + b[c];
  }
  copies.push_back({buffers.at("input_scale"), scale});
  copies.push_back({buffers.at("input_shift"), shift});

  torch::NoGradGuard no_grad;
  for (Copy& copy : copies) copy.target.copy_(copy.value);
  return report;
}

}  // namespace gcl::models

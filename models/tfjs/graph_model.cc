#include "models/tfjs/graph_model.h"

#include <ATen/ATen.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <vector>

namespace gcl::models::tfjs {
namespace {

namespace fs = std::filesystem;
using proto::tfjs::WeightEntry;

[[noreturn]] void Fail(const std::string& source, const std::string& message) {
  throw std::runtime_error(source + ": " + message);
}

std::string WeightLabel(const WeightEntry& entry) { return "weight '" + entry.name() + "'"; }

void RequireLittleEndianHost() {
  const uint16_t probe = 1;
  uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  if (first != 1) throw std::runtime_error("TF.js weights are little-endian; this host is big-endian");
}

// Elements of `shape`, refusing negative dimensions and products beyond `limit`.
int64_t CheckedElements(const google::protobuf::RepeatedField<int64_t>& shape, int64_t limit,
                        const std::string& source, const std::string& what) {
  int64_t n = 1;
  for (const int64_t d : shape) {
    if (d < 0) Fail(source, what + ": negative dimension " + std::to_string(d) + " in its shape");
    if (d != 0 && n > limit / d) Fail(source, what + ": shape has more than " + std::to_string(limit) + " elements");
    n *= d;
  }
  return n;
}

std::vector<int64_t> ShapeOf(const WeightEntry& entry) {
  return std::vector<int64_t>(entry.shape().begin(), entry.shape().end());
}

int64_t ValueBytes(const std::string& dtype) {
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "float16" || dtype == "uint16") return 2;
  if (dtype == "uint8" || dtype == "bool") return 1;
  return 0;
}

// A manifest path must name a file inside the model's folder: no absolute paths, no "..".
fs::path WeightFilePath(const fs::path& folder, const std::string& name, const std::string& source) {
  const fs::path relative(name);
  if (name.empty() || relative.is_absolute()) {
    Fail(source, "weightsManifest path '" + name + "' must be a file name relative to the model's folder");
  }
  for (const fs::path& part : relative) {
    if (part == "..") Fail(source, "weightsManifest path '" + name + "' leaves the model's folder");
  }
  return folder / relative;
}

std::string ReadFileBounded(const std::string& path, int64_t max_bytes, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) Fail(path, "cannot open " + what + " (no such file)");
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) Fail(path, "cannot read the size of " + what + ": " + ec.message());
  if (size > max_bytes) {
    Fail(path, what + " has " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(path, "cannot open " + what);
  std::string bytes(static_cast<size_t>(size), '\0');
  if (!in.read(bytes.data(), size)) Fail(path, "cannot read " + what + " (" + std::to_string(size) + " bytes)");
  return bytes;
}

template <typename T>
at::Tensor CopyRaw(const uint8_t* data, int64_t count, at::ScalarType type) {
  at::Tensor t = at::empty({count}, at::TensorOptions().dtype(type));
  if (count > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(count) * sizeof(T));
  return t;
}

// TF.js's dequantization (tfjs-core io_utils decodeWeight): float32 = q * scale + min in double precision, then
// stored as float32; int32 = Math.round(q * scale + min), i.e. floor(x + 0.5).
template <typename Q>
at::Tensor Dequantize(const uint8_t* data, int64_t count, double scale, double min, bool to_int) {
  std::vector<Q> q(static_cast<size_t>(count));
  if (count > 0) std::memcpy(q.data(), data, static_cast<size_t>(count) * sizeof(Q));
  if (to_int) {
    at::Tensor out = at::empty({count}, at::kInt);
    int32_t* o = out.data_ptr<int32_t>();
    for (int64_t i = 0; i < count; ++i) o[i] = static_cast<int32_t>(std::floor(q[i] * scale + min + 0.5));
    return out;
  }
  at::Tensor out = at::empty({count}, at::kFloat);
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < count; ++i) o[i] = static_cast<float>(q[i] * scale + min);
  return out;
}

}  // namespace

proto::tfjs::ModelJson ParseModelJson(const std::string& text, const std::string& source) {
  proto::tfjs::ModelJson json;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &json, options);
  if (!status.ok()) Fail(source, "not a TF.js model.json: " + status.ToString());
  if (json.model_topology().node_size() == 0) {
    Fail(source, "no GraphDef nodes under modelTopology (format '" + json.format() +
                     "'; only TF.js graph models are read, not layers models)");
  }
  if (json.model_topology().library().function_size() > 0) {
    Fail(source, "the graph has " + std::to_string(json.model_topology().library().function_size()) +
                     " functions (control flow); only function-free graphs are supported");
  }
  return json;
}

int64_t WeightByteSize(const WeightEntry& entry, const std::string& source, int64_t max_bytes) {
  const std::string what = WeightLabel(entry);
  int64_t bytes_per_value = 0;
  if (entry.has_quantization()) {
    const proto::tfjs::WeightQuantization& q = entry.quantization();
    bytes_per_value = q.dtype() == "float16" || q.dtype() == "uint8" || q.dtype() == "uint16" ? ValueBytes(q.dtype()) : 0;
    if (bytes_per_value == 0) {
      Fail(source, what + ": unknown quantization dtype '" + q.dtype() + "' (float16, uint8, uint16 are read)");
    }
    if (q.dtype() == "float16" && entry.dtype() != "float32") {
      Fail(source, what + ": float16 quantization of a '" + entry.dtype() + "' weight (only float32 can be)");
    }
    if (q.dtype() != "float16") {
      if (entry.dtype() != "float32" && entry.dtype() != "int32") {
        Fail(source, what + ": " + q.dtype() + " quantization of a '" + entry.dtype() +
                         "' weight (only float32 and int32 can be)");
      }
      if (!q.has_scale() || !q.has_min()) Fail(source, what + ": " + q.dtype() + " quantization without min and scale");
    }
  } else {
    if (entry.dtype() != "float32" && entry.dtype() != "int32" && entry.dtype() != "bool") {
      Fail(source, what + ": unknown or unsupported dtype '" + entry.dtype() + "' (float32, int32, bool are read)");
    }
    bytes_per_value = ValueBytes(entry.dtype());
  }
  const int64_t count = CheckedElements(entry.shape(), max_bytes / bytes_per_value, source, what);
  return count * bytes_per_value;
}

at::Tensor DecodeWeight(const WeightEntry& entry, const uint8_t* data, int64_t size, const std::string& source) {
  RequireLittleEndianHost();
  const int64_t expected = WeightByteSize(entry, source, std::numeric_limits<int64_t>::max());
  if (size != expected) {
    Fail(source, WeightLabel(entry) + ": " + std::to_string(size) + " bytes given, its shape and dtype need " +
                     std::to_string(expected));
  }
  const std::vector<int64_t> shape = ShapeOf(entry);
  at::Tensor flat;
  if (entry.has_quantization()) {
    const proto::tfjs::WeightQuantization& q = entry.quantization();
    const bool to_int = entry.dtype() == "int32";
    if (q.dtype() == "float16") {
      flat = CopyRaw<uint16_t>(data, size / 2, at::kHalf).to(at::kFloat);
    } else if (q.dtype() == "uint8") {
      flat = Dequantize<uint8_t>(data, size, q.scale(), q.min(), to_int);
    } else {
      flat = Dequantize<uint16_t>(data, size / 2, q.scale(), q.min(), to_int);
    }
  } else if (entry.dtype() == "float32") {
    flat = CopyRaw<float>(data, size / 4, at::kFloat);
  } else if (entry.dtype() == "int32") {
    flat = CopyRaw<int32_t>(data, size / 4, at::kInt);
  } else {
    flat = CopyRaw<uint8_t>(data, size, at::kByte).ne(0);
  }
  return flat.reshape(shape);
}

GraphModel ReadGraphModel(const std::string& json_path, const ReadOptions& options) {
  RequireLittleEndianHost();
  const std::string text = ReadFileBounded(json_path, options.max_json_bytes, "the TF.js model.json");
  proto::tfjs::ModelJson json = ParseModelJson(text, json_path);

  GraphModel model;
  model.source = json_path;
  model.format = json.format();
  model.generated_by = json.generated_by();
  model.converted_by = json.converted_by();
  model.graph = std::move(*json.mutable_model_topology());
  model.signature = std::move(*json.mutable_signature());

  const fs::path folder = fs::path(json_path).parent_path();
  // First every size, from the manifest against the files on disk; nothing is read or allocated before both
  // agree and stay within the limit.
  int64_t total = 0;
  std::vector<std::vector<fs::path>> group_files;
  for (int g = 0; g < json.weights_manifest_size(); ++g) {
    const proto::tfjs::WeightsGroup& group = json.weights_manifest(g);
    const std::string label = "weightsManifest[" + std::to_string(g) + "]";
    int64_t described = 0;
    for (const WeightEntry& entry : group.weights()) {
      const int64_t bytes = WeightByteSize(entry, json_path, options.max_weight_bytes);
      if (bytes > options.max_weight_bytes - total - described) {
        Fail(json_path, "the weights manifest describes more than the limit of " +
                            std::to_string(options.max_weight_bytes) + " bytes");
      }
      described += bytes;
    }
    if (group.weights_size() > 0 && group.paths_size() == 0) Fail(json_path, label + " lists weights but no files");
    int64_t on_disk = 0;
    std::vector<fs::path> files;
    for (const std::string& name : group.paths()) {
      files.push_back(WeightFilePath(folder, name, json_path));
      std::error_code ec;
      if (!fs::is_regular_file(files.back(), ec)) {
        Fail(files.back().string(), "cannot open the weight file (no such file; listed in " + label + " of " +
                                        json_path + ")");
      }
      on_disk += static_cast<int64_t>(fs::file_size(files.back(), ec));
      if (ec) Fail(files.back().string(), "cannot read its size: " + ec.message());
    }
    if (on_disk != described) {
      Fail(json_path, label + " (" + (group.paths_size() ? group.paths(0) : std::string("no files")) +
                          (group.paths_size() > 1 ? ", ..." : "") + "): the manifest describes " +
                          std::to_string(described) + " bytes of weights, the files hold " + std::to_string(on_disk));
    }
    total += described;
    group_files.push_back(std::move(files));
  }

  for (int g = 0; g < json.weights_manifest_size(); ++g) {
    const proto::tfjs::WeightsGroup& group = json.weights_manifest(g);
    std::string bytes;
    for (const fs::path& file : group_files[g]) {
      bytes += ReadFileBounded(file.string(), options.max_weight_bytes, "the weight file");
    }
    int64_t offset = 0;
    for (const WeightEntry& entry : group.weights()) {
      const int64_t size = WeightByteSize(entry, json_path, options.max_weight_bytes);
      if (offset + size > static_cast<int64_t>(bytes.size())) {
        // The files changed between the size check and the read.
        Fail(json_path, WeightLabel(entry) + " lies beyond the end of the weight files");
      }
      const auto* data = reinterpret_cast<const uint8_t*>(bytes.data()) + offset;
      if (!model.weights.emplace(entry.name(), DecodeWeight(entry, data, size, json_path)).second) {
        Fail(json_path, WeightLabel(entry) + " appears twice in the weights manifest");
      }
      offset += size;
    }
  }
  return model;
}

at::Tensor TensorFromProto(const proto::tfjs::TensorProto& proto, const std::string& what) {
  RequireLittleEndianHost();
  std::vector<int64_t> shape;
  int64_t count = 1;
  constexpr int64_t kMaxInline = int64_t{1} << 28;
  for (const auto& dim : proto.tensor_shape().dim()) {
    if (dim.size() < 0) throw std::runtime_error(what + ": negative dimension in the tensor's shape");
    if (dim.size() != 0 && count > kMaxInline / dim.size()) throw std::runtime_error(what + ": tensor too large");
    count *= dim.size();
    shape.push_back(dim.size());
  }
  at::ScalarType type;
  int64_t item = 0;
  int given = 0;
  switch (proto.dtype()) {
    case proto::tfjs::DT_FLOAT: type = at::kFloat; item = 4; given = proto.float_val_size(); break;
    case proto::tfjs::DT_INT32: type = at::kInt; item = 4; given = proto.int_val_size(); break;
    case proto::tfjs::DT_INT64: type = at::kLong; item = 8; given = proto.int64_val_size(); break;
    case proto::tfjs::DT_BOOL: type = at::kBool; item = 1; given = proto.bool_val_size(); break;
    default:
      throw std::runtime_error(what + ": inline tensor of dtype " + proto::tfjs::DataType_Name(proto.dtype()) +
                               " is not supported (float, int32, int64, bool)");
  }
  at::Tensor out = at::empty({count}, at::TensorOptions().dtype(type));
  if (!proto.tensor_content().empty()) {
    if (static_cast<int64_t>(proto.tensor_content().size()) != count * item) {
      throw std::runtime_error(what + ": tensor_content has " + std::to_string(proto.tensor_content().size()) +
                               " bytes, the shape needs " + std::to_string(count * item));
    }
    if (count > 0) std::memcpy(out.data_ptr(), proto.tensor_content().data(), proto.tensor_content().size());
    return out.reshape(shape);
  }
  // TensorFlow's rule: fewer values than elements repeat the last one (a single value fills the tensor).
  if (given == 0 && count > 0) throw std::runtime_error(what + ": the tensor has no values");
  if (given > count) {
    throw std::runtime_error(what + ": " + std::to_string(given) + " values for " + std::to_string(count) +
                             " elements");
  }
  for (int64_t i = 0; i < count; ++i) {
    const int k = static_cast<int>(std::min<int64_t>(i, given - 1));
    switch (proto.dtype()) {
      case proto::tfjs::DT_FLOAT: out.data_ptr<float>()[i] = proto.float_val(k); break;
      case proto::tfjs::DT_INT32: out.data_ptr<int32_t>()[i] = proto.int_val(k); break;
      case proto::tfjs::DT_INT64: out.data_ptr<int64_t>()[i] = proto.int64_val(k); break;
      default: out.data_ptr<bool>()[i] = proto.bool_val(k); break;
    }
  }
  return out.reshape(shape);
}

at::Tensor ConstValue(const GraphModel& model, const proto::tfjs::NodeDef& node) {
  const auto it = model.weights.find(node.name());
  if (it != model.weights.end()) return it->second;
  const auto value = node.attr().find("value");
  const std::string what = model.source + ": Const node '" + node.name() + "'";
  if (value == node.attr().end() || !value->second.has_tensor()) {
    throw std::runtime_error(what + " has no weight in the manifest and no inline value");
  }
  const proto::tfjs::TensorProto& t = value->second.tensor();
  const bool has_values = !t.tensor_content().empty() ||
                          t.float_val_size() + t.int_val_size() + t.int64_val_size() + t.bool_val_size() > 0;
  bool empty_shape = false;
  for (const auto& dim : t.tensor_shape().dim()) empty_shape = empty_shape || dim.size() == 0;
  if (!has_values && !empty_shape) throw std::runtime_error(what + " has no weight in the manifest and no inline value");
  return TensorFromProto(t, what);
}

const proto::tfjs::NodeDef* FindNode(const GraphModel& model, const std::string& name) {
  for (const proto::tfjs::NodeDef& node : model.graph.node()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

}  // namespace gcl::models::tfjs

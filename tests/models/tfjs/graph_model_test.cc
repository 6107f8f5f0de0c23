// models/tfjs/graph_model.h: model.json parsing, weight decoding against hand-made bytes (float16 bit patterns,
// TF.js's uint8/uint16 dequantization and its rounding), the real MoveNet-Thunder file, and a clear error for
// every malformed input, raised before anything large is allocated.
#include "models/tfjs/graph_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/tfjs/bundled_models.h"

namespace gcl::models::tfjs {
namespace {

namespace fs = std::filesystem;

// A scratch folder per test for hand-made model.json + .bin pairs.
class GraphModelFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  std::string Write(const std::string& name, const std::string& bytes) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }

  // A model.json whose single Const node "w" is described by `weights` (a JSON array) in file "w.bin".
  std::string WriteModel(const std::string& weights, const std::string& bin, const std::string& paths = "[\"w.bin\"]") {
    Write("w.bin", bin);
    return Write("model.json", R"({"format": "graph-model", "modelTopology": {"node": [{"name": "w", "op": "Const"}]},
        "weightsManifest": [{"paths": )" + paths + R"(, "weights": )" + weights + "}]}");
  }

  // The error message ReadGraphModel throws for this model (empty when it reads).
  std::string ReadError(const std::string& json, const ReadOptions& options = {}) {
    try {
      ReadGraphModel(json, options);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

template <typename T>
std::string Bytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

TEST_F(GraphModelFiles, DecodesEveryDtypeAndQuantization) {
  // float16 bit patterns: 1, -2, 65504 (largest), 2^-24 (smallest subnormal), -0, 0.333251953125.
  const std::vector<uint16_t> half = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x3555};
  const std::vector<float> f32 = {1.5f, -0.25f};
  const std::vector<int32_t> i32 = {-7, 2147483647};
  const std::vector<uint8_t> boolean = {0, 1, 2};
  const std::vector<uint8_t> u8 = {0, 1, 255};
  const std::vector<uint16_t> u16 = {0, 40000};
  const std::vector<uint8_t> u8_int = {0, 1, 2, 3};
  const std::string bin = Bytes(half) + Bytes(f32) + Bytes(i32) + Bytes(boolean) + Bytes(u8) + Bytes(u16) + Bytes(u8_int);
  const std::string json = WriteModel(R"([
      {"name": "half", "shape": [2, 3], "dtype": "float32", "quantization": {"dtype": "float16", "original_dtype": "float32"}},
      {"name": "f32", "shape": [2], "dtype": "float32"},
      {"name": "i32", "shape": [2], "dtype": "int32"},
      {"name": "bool", "shape": [3], "dtype": "bool"},
      {"name": "u8", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1}},
      {"name": "u16", "shape": [2], "dtype": "float32", "quantization": {"dtype": "uint16", "scale": 0.001, "min": 0.1}},
      {"name": "u8_int", "shape": [4], "dtype": "int32", "quantization": {"dtype": "uint8", "scale": 2.5, "min": -2.5}}
    ])", bin);
  const GraphModel m = ReadGraphModel(json);
  EXPECT_EQ(m.format, "graph-model");
  ASSERT_EQ(m.weights.size(), 7u);
  const torch::Tensor h = m.weights.at("half");
  EXPECT_EQ(h.scalar_type(), torch::kFloat);
  EXPECT_EQ(h.sizes(), torch::IntArrayRef({2, 3}));
  const std::vector<float> want_half = {1.0f, -2.0f, 65504.0f, 5.9604644775390625e-8f, -0.0f, 0.333251953125f};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(h.reshape({-1})[i].item<float>(), want_half[i]) << i;
  EXPECT_TRUE(std::signbit(h.reshape({-1})[4].item<float>()));
  EXPECT_TRUE(torch::equal(m.weights.at("f32"), torch::tensor({1.5f, -0.25f})));
  EXPECT_TRUE(torch::equal(m.weights.at("i32"), torch::tensor({-7, 2147483647}, torch::kInt)));
  EXPECT_TRUE(torch::equal(m.weights.at("bool"), torch::tensor({false, true, true})));
  EXPECT_TRUE(torch::equal(m.weights.at("u8"), torch::tensor({-1.0f, -0.5f, 126.5f})));
  // q * scale + min in double, then rounded once to float32 (TF.js stores into a Float32Array).
  EXPECT_EQ(m.weights.at("u16")[1].item<float>(), static_cast<float>(40000 * 0.001 + 0.1));
  // Math.round: -2.5 -> -2, 0 -> 0, 2.5 -> 3, 5 -> 5.
  EXPECT_TRUE(torch::equal(m.weights.at("u8_int"), torch::tensor({-2, 0, 3, 5}, torch::kInt)));
}

TEST_F(GraphModelFiles, ReadsWeightsSpreadOverSeveralFilesAndGroups) {
  Write("a.bin", Bytes(std::vector<float>{1, 2}));
  Write("b.bin", Bytes(std::vector<float>{3}));
  Write("c.bin", Bytes(std::vector<int32_t>{4}));
  const std::string json = Write("model.json", R"({"modelTopology": {"node": [{"name": "x", "op": "Const"}]},
      "weightsManifest": [
        {"paths": ["a.bin", "b.bin"], "weights": [{"name": "p", "shape": [1], "dtype": "float32"},
                                                  {"name": "q", "shape": [2], "dtype": "float32"}]},
        {"paths": ["c.bin"], "weights": [{"name": "r", "shape": [], "dtype": "int32"}]}]})");
  const GraphModel m = ReadGraphModel(json);
  EXPECT_TRUE(torch::equal(m.weights.at("p"), torch::tensor({1.0f})));
  EXPECT_TRUE(torch::equal(m.weights.at("q"), torch::tensor({2.0f, 3.0f})));
  EXPECT_EQ(m.weights.at("r").dim(), 0);
  EXPECT_EQ(m.weights.at("r").item<int32_t>(), 4);
}

TEST_F(GraphModelFiles, MalformedModelsFailNamingFileAndTensor) {
  const std::string one_float = R"([{"name": "w", "shape": [2], "dtype": "float32"}])";
  const std::string eight = Bytes(std::vector<float>{1, 2});
  auto expect_error = [&](const std::string& json, const std::vector<std::string>& parts) {
    const std::string error = ReadError(json);
    ASSERT_FALSE(error.empty()) << json;
    for (const std::string& part : parts) EXPECT_NE(error.find(part), std::string::npos) << error;
  };
  expect_error((dir_ / "missing.json").string(), {"missing.json", "no such file"});
  expect_error(Write("junk.json", "{not json"), {"junk.json", "not a TF.js model.json"});
  expect_error(Write("layers.json", R"({"format": "layers-model", "modelTopology": {"class_name": "Sequential"}})"),
               {"layers.json", "layers-model", "only TF.js graph models"});
  expect_error(Write("fn.json", R"({"modelTopology": {"node": [{"name": "a", "op": "Const"}],
                                    "library": {"function": [{}]}}})"),
               {"fn.json", "functions"});
  expect_error(WriteModel(one_float, eight.substr(0, 7)), {"model.json", "w.bin", "describes 8 bytes", "hold 7"});
  expect_error(WriteModel(one_float, eight + "x"), {"describes 8 bytes", "hold 9"});
  expect_error(WriteModel(one_float, eight, R"(["absent.bin"])"), {"absent.bin", "no such file", "model.json"});
  expect_error(WriteModel(one_float, eight, R"(["../w.bin"])"), {"../w.bin", "leaves the model's folder"});
  expect_error(WriteModel(one_float, eight, R"(["/etc/passwd"])"), {"/etc/passwd", "relative"});
  expect_error(WriteModel(R"([{"name": "w", "shape": [2], "dtype": "float64"}])", eight),
               {"model.json", "weight 'w'", "dtype 'float64'"});
  expect_error(WriteModel(R"([{"name": "w", "shape": [2], "dtype": "string"}])", eight), {"weight 'w'", "'string'"});
  expect_error(WriteModel(R"([{"name": "w", "shape": [4], "dtype": "float32", "quantization": {"dtype": "int4"}}])",
                          eight),
               {"weight 'w'", "quantization dtype 'int4'"});
  expect_error(WriteModel(R"([{"name": "w", "shape": [8], "dtype": "float32", "quantization": {"dtype": "uint8"}}])",
                          eight),
               {"weight 'w'", "without min and scale"});
  expect_error(WriteModel(R"([{"name": "w", "shape": [4], "dtype": "int32", "quantization": {"dtype": "float16"}}])",
                          eight),
               {"weight 'w'", "float16 quantization of a 'int32'"});
  expect_error(WriteModel(R"([{"name": "w", "shape": [-2], "dtype": "float32"}])", eight),
               {"weight 'w'", "negative dimension"});
  expect_error(WriteModel(R"([{"name": "w", "shape": [1], "dtype": "float32"},
                              {"name": "w", "shape": [1], "dtype": "float32"}])", eight),
               {"weight 'w'", "twice"});
}

TEST_F(GraphModelFiles, HostileSizesAreRefusedBeforeAllocating) {
  // 2^62 elements would overflow any allocation: the manifest is checked against limits and the file first.
  const std::string huge = WriteModel(R"([{"name": "w", "shape": [4611686018427387904], "dtype": "float32"}])", "x");
  std::string error = ReadError(huge);
  EXPECT_NE(error.find("weight 'w'"), std::string::npos) << error;
  EXPECT_NE(error.find("more than"), std::string::npos) << error;
  // Dimensions whose product overflows int64.
  error = ReadError(WriteModel(R"([{"name": "w", "shape": [4294967296, 4294967296, 4], "dtype": "float32"}])", "x"));
  EXPECT_NE(error.find("more than"), std::string::npos) << error;
  // Within int64 but beyond the configured limit, with a .bin too small: the limit speaks first.
  ReadOptions small;
  small.max_weight_bytes = 1024;
  error = ReadError(WriteModel(R"([{"name": "w", "shape": [1000], "dtype": "float32"}])", "x"), small);
  EXPECT_NE(error.find("more than"), std::string::npos) << error;
  small.max_json_bytes = 10;
  error = ReadError(WriteModel(R"([{"name": "w", "shape": [1], "dtype": "float32"}])", "abcd"), small);
  EXPECT_NE(error.find("model.json"), std::string::npos) << error;
  EXPECT_NE(error.find("limit"), std::string::npos) << error;
}

TEST(DecodeWeight, ChecksTheByteCount) {
  proto::tfjs::WeightEntry entry;
  entry.set_name("k");
  entry.set_dtype("float32");
  entry.add_shape(3);
  const std::vector<float> v = {1, 2, 3};
  EXPECT_TRUE(torch::equal(DecodeWeight(entry, reinterpret_cast<const uint8_t*>(v.data()), 12, "src"),
                           torch::tensor({1.0f, 2.0f, 3.0f})));
  try {
    DecodeWeight(entry, reinterpret_cast<const uint8_t*>(v.data()), 8, "src");
    FAIL() << "8 bytes for 3 floats were accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("src: weight 'k': 8 bytes given"), std::string::npos) << e.what();
  }
}

TEST(ConstValue, InlineTensorsFollowTensorFlowsRules) {
  GraphModel m;
  m.source = "inline.json";
  m.graph = ParseModelJson(R"({"modelTopology": {"node": [
      {"name": "a", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_FLOAT",
          "tensorShape": {"dim": [{"size": "2"}, {"size": "2"}]}, "floatVal": [0.5]}}}},
      {"name": "b", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_INT32",
          "tensorShape": {"dim": [{"size": "3"}]}, "intVal": [1, 2, 3]}}}},
      {"name": "c", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_FLOAT",
          "tensorShape": {"dim": [{"size": "2"}]}, "tensorContent": "AACAPwAAAMA="}}}},
      {"name": "d", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {}}}}},
      {"name": "e", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_INT32",
          "tensorShape": {"dim": [{"size": "1"}]}, "intVal": [1, 2]}}}},
      {"name": "f", "op": "Const", "attr": {"value": {"tensor": {"dtype": "DT_STRING", "tensorShape": {},
          "stringVal": ["eA=="]}}}}]}})",
                           "inline.json")
                .model_topology();
  m.weights["d"] = torch::tensor(7.0f);
  EXPECT_TRUE(torch::equal(ConstValue(m, m.graph.node(0)), torch::full({2, 2}, 0.5f)));  // one value fills
  EXPECT_TRUE(torch::equal(ConstValue(m, m.graph.node(1)), torch::tensor({1, 2, 3}, torch::kInt)));
  EXPECT_TRUE(torch::equal(ConstValue(m, m.graph.node(2)), torch::tensor({1.0f, -2.0f})));  // little-endian bytes
  EXPECT_EQ(ConstValue(m, m.graph.node(3)).item<float>(), 7.0f);  // the manifest wins
  m.weights.clear();
  EXPECT_THROW(
      {
        try {
          ConstValue(m, m.graph.node(3));
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("inline.json: Const node 'd' has no weight"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
  EXPECT_THROW(ConstValue(m, m.graph.node(4)), std::runtime_error);  // 2 values for 1 element
  EXPECT_THROW(ConstValue(m, m.graph.node(5)), std::runtime_error);  // strings are not tensors here
}

// The real file @human_models fetches: the manifest, shapes and dtypes of MoveNet-Thunder as published.
TEST(MoveNetThunder, ReadsThePublishedModel) {
  const GraphModel m = ReadGraphModel(BundledModelJson("movenet-thunder"));
  EXPECT_EQ(m.format, "graph-model");
  EXPECT_EQ(m.generated_by, "https://tfhub.dev/google/movenet/singlepose/thunder/4");
  EXPECT_EQ(m.graph.node_size(), 331);
  EXPECT_EQ(m.weights.size(), 180u);
  const std::string prefix = "StatefulPartitionedCall/center_net_mobile_net_v2fpn_feature_extractor/model_1/model/";
  const torch::Tensor conv1 = m.weights.at(prefix + "Conv1/Conv2D_weights");
  EXPECT_EQ(conv1.sizes(), torch::IntArrayRef({3, 3, 3, 56}));  // HWIO, width 1.75: 32 * 1.75 channels
  EXPECT_EQ(conv1.scalar_type(), torch::kFloat);
  EXPECT_EQ(m.weights.at(prefix + "block_16_depthwise/depthwise_weights").sizes(), torch::IntArrayRef({3, 3, 1680, 1}));
  EXPECT_EQ(m.weights.at(prefix + "Conv_1/Conv2D_weights").sizes(), torch::IntArrayRef({1, 1, 560, 1280}));
  // float16 weights widen exactly: every value survives a round trip through half precision.
  EXPECT_TRUE(torch::equal(conv1, conv1.to(torch::kHalf).to(torch::kFloat)));
  EXPECT_GT(conv1.abs().max().item<float>(), 0.0f);
  // The input normalisation the graph applies to the 0..255 picture: (x - 0) * (1/127.5 in float16) - 1.
  EXPECT_TRUE(torch::equal(m.weights.at("StatefulPartitionedCall/Reshape"), torch::zeros({1, 1, 1, 3})));
  EXPECT_EQ(m.weights.at("StatefulPartitionedCall/truediv")[0][0][0][0].item<float>(), 0.007843017578125f);
  EXPECT_EQ(m.signature.inputs().at("input:0").name(), "input:0");
  EXPECT_EQ(m.signature.inputs().at("input:0").dtype(), proto::tfjs::DT_INT32);
  const proto::tfjs::NodeDef* node = FindNode(m, "input");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->op(), "Placeholder");
  EXPECT_EQ(FindNode(m, "no such node"), nullptr);
}

}  // namespace
}  // namespace gcl::models::tfjs

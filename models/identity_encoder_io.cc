#include "models/identity_encoder_io.h"

#include <cstdio>
#include <stdexcept>

#include "common/numbers.h"

namespace gcl::models {
namespace {

constexpr char kFormat[] = "gcl.identity_encoder";

bool HasHead(const Checkpoint& checkpoint, const LoadOptions& options) {
  for (const auto& entry : checkpoint.tensors) {
    std::string name = entry.first;
    for (const std::string& prefix : options.strip_prefixes) {
      while (!prefix.empty() && name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
    }
    if (name == "feat.weight") return true;
  }
  return false;
}

std::string FormatDouble(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

}  // namespace

LoadReport ImportIdentityEncoderWeights(IdentityEncoder& net, const Checkpoint& checkpoint, IdentityWeights mode,
                                        const std::string& source) {
  LoadOptions options;
  if (mode == IdentityWeights::kAuto) mode = HasHead(checkpoint, options) ? IdentityWeights::kFull : IdentityWeights::kBackbone;
  if (mode == IdentityWeights::kBackbone) options.optional_prefixes = {"feat.", "feat_bn."};
  return LoadStateDict(*net, checkpoint.tensors, options, source);
}

LoadReport ImportIdentityEncoderWeights(IdentityEncoder& net, const std::string& path, IdentityWeights mode) {
  return ImportIdentityEncoderWeights(net, ReadCheckpoint(path), mode, path);
}

void ExportIdentityEncoder(const IdentityEncoder& net, const std::string& path) {
  const IdentityEncoderOptions& o = net->options();
  WriteSafetensors(path, ModuleStateDict(*net),
                   {{"format", kFormat},
                    {"depth", std::to_string(o.depth)},
                    {"width", FormatDouble(o.width)},
                    {"last_stride_one", o.last_stride_one ? "1" : "0"},
                    {"num_parts", std::to_string(o.num_parts)},
                    {"embedding_dim", std::to_string(o.embedding_dim)},
                    {"backbone", BackboneName(o.backbone)},
                    {"mobilenet_width", FormatDouble(o.mobilenet_width)}});
}

IdentityEncoderOptions ExportedIdentityEncoderOptions(const Checkpoint& checkpoint, const std::string& source) {
  auto field = [&](const std::string& name) -> const std::string& {
    const auto it = checkpoint.metadata.find(name);
    if (it == checkpoint.metadata.end()) {
      throw std::runtime_error(source + ": metadata field '" + name +
                               "' is missing (not written by ExportIdentityEncoder?)");
    }
    return it->second;
  };
  if (field("format") != kFormat) {
    throw std::runtime_error(source + ": metadata field 'format' is '" + field("format") + "', expected '" +
                             kFormat + "'");
  }
  auto number = [&](const std::string& name) {
    const std::string& text = field(name);
    double value = 0;
    // Whole numbers and the width multiplier alike; ValidateIdentityEncoderOptions checks the ranges.
    if (const std::string problem = ParseReal(text, -1e9, 1e9, &value); !problem.empty()) {
      throw std::runtime_error(source + ": metadata field '" + name + "' is '" + text + "', " + problem);
    }
    return value;
  };
  IdentityEncoderOptions o;
  o.depth = static_cast<int>(number("depth"));
  o.width = number("width");
  o.last_stride_one = number("last_stride_one") != 0;
  o.num_parts = static_cast<int>(number("num_parts"));
  o.embedding_dim = static_cast<int>(number("embedding_dim"));
  // Exports written before the MobileNetV2 option have neither field: they are ResNets.
  if (checkpoint.metadata.count("backbone")) {
    try {
      o.backbone = ParseBackbone(field("backbone"));
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(source + ": metadata field 'backbone': " + e.what());
    }
    o.mobilenet_width = number("mobilenet_width");
  }
  try {
    ValidateIdentityEncoderOptions(o);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(source + ": " + e.what());
  }
  return o;
}

IdentityEncoder LoadExportedIdentityEncoder(const std::string& path) {
  const Checkpoint checkpoint = ReadCheckpoint(path);
  IdentityEncoder net(ExportedIdentityEncoderOptions(checkpoint, path));
  LoadOptions options;
  options.allow_missing_num_batches_tracked = false;
  const LoadReport report = LoadStateDict(*net, checkpoint.tensors, options, path);
  if (!report.unexpected.empty()) {
    throw std::runtime_error(path + ": export holds key '" + report.unexpected.front() +
                             "' that the encoder it describes does not have");
  }
  net->eval();
  return net;
}

}  // namespace gcl::models

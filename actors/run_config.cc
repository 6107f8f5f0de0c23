#include "actors/run_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "common/device_name.h"
#include "common/read_file.h"

namespace gcl::actors {
namespace {

// Collects the parser's complaints with their positions.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    text_ += "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message + "; ";
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

void Require(bool ok, const std::string& field, const std::string& problem) {
  if (!ok) throw std::runtime_error("RunConfig." + field + ": " + problem);
}

std::string Number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// More epochs than anyone trains: the bound keeps epoch and step counts far from integer overflow.
constexpr int kMaxEpochs = 100000;

// An integer field in [min, max] (0 usually meaning: the default).
void Within(int64_t value, int64_t min, int64_t max, const std::string& field) {
  Require(value >= min && value <= max, field,
          "must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got " + std::to_string(value));
}

}  // namespace

proto::RunConfig LoadRunConfig(const std::string& path) {
  const std::string text = ReadWholeFile(path, kMaxConfigBytes, "run config");
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  proto::RunConfig config;
  if (!parser.ParseFromString(text, &config)) {
    throw std::runtime_error("run config " + path + " does not parse: " + errors.text());
  }
  return config;
}

proto::RunConfig ResolveRunConfig(proto::RunConfig c) {
  if (c.version() != 0 && c.version() != kRunConfigVersion) {
    throw std::runtime_error("RunConfig.version: " + std::to_string(c.version()) + ", this build reads " +
                             std::to_string(kRunConfigVersion));
  }
  c.set_version(kRunConfigVersion);
  if (c.name().empty()) c.set_name("run");
  if (c.output_dir().empty()) c.set_output_dir("runs");
  if (c.device().empty()) c.set_device("auto");
  if (const std::string problem = DeviceNameProblem(c.device()); !problem.empty()) Require(false, "device", problem);
  Within(c.warmup_epochs(), 0, kMaxEpochs, "warmup_epochs");
  Within(c.gan_warmup_epochs(), 0, kMaxEpochs, "gan_warmup_epochs");
  Within(c.joint_epochs(), 0, kMaxEpochs, "joint_epochs");
  // Summed in 64 bits: int32 fields near 2^31 once wrapped around to "every phase has 0 epochs".
  Require(int64_t{c.warmup_epochs()} + c.gan_warmup_epochs() + c.joint_epochs() > 0, "joint_epochs",
          "every phase has 0 epochs: nothing to train");
  Within(c.batch_size(), 0, 4096, "batch_size");
  c.set_batch_size(c.batch_size() == 0 ? 16 : c.batch_size());           // reference §7
  Require(c.loader_workers() >= 0 && c.loader_workers() <= 256, "loader_workers", "outside 0..256");
  c.set_loader_workers(c.loader_workers() == 0 ? 2 : c.loader_workers());
  Within(c.prefetch_batches(), 0, 1024, "prefetch_batches");
  c.set_prefetch_batches(c.prefetch_batches() == 0 ? 4 : c.prefetch_batches());
  Within(c.k1(), 0, 10000, "k1");
  Within(c.k2(), 0, 10000, "k2");
  Within(c.min_samples(), 0, 100000, "min_samples");
  c.set_k1(c.k1() == 0 ? 30 : c.k1());                                    // reference §6
  c.set_k2(c.k2() == 0 ? 6 : c.k2());
  c.set_min_samples(c.min_samples() == 0 ? 4 : c.min_samples());
  Require(c.rho() >= 0 && c.rho() < 1, "rho", "outside [0, 1)");
  c.set_rho(c.rho() == 0 ? 1.6e-3 : c.rho());
  Within(c.clusterer_retries(), 0, 100, "clusterer_retries");
  c.set_clusterer_retries(c.clusterer_retries() == 0 ? 2 : c.clusterer_retries());
  Within(c.feature_dim(), 0, 65536, "feature_dim");
  c.set_feature_dim(c.feature_dim() == 0 ? 512 : c.feature_dim());       // reference §5
  Require(c.momentum() >= 0 && c.momentum() < 1, "momentum", "outside [0, 1)");
  c.set_momentum(c.momentum() == 0 ? 0.2 : c.momentum());
  // tau divides every similarity (reference §5, Eq. 5): inf, NaN or a negative value would silently turn the
  // contrastive loss into NaN or its opposite.
  Require(std::isfinite(c.temperature()) && c.temperature() >= 0 && c.temperature() <= 10, "temperature",
          "must be a number in (0, 10] (0: the default 0.04), got " + Number(c.temperature()));
  c.set_temperature(c.temperature() == 0 ? 0.04 : c.temperature());
  Within(c.num_negatives(), 0, 100000000, "num_negatives");
  c.set_num_negatives(c.num_negatives() == 0 ? 8192 : c.num_negatives());
  Within(c.checkpoint_every_epochs(), 0, kMaxEpochs, "checkpoint_every_epochs");
  c.set_checkpoint_every_epochs(c.checkpoint_every_epochs() == 0 ? 1 : c.checkpoint_every_epochs());
  Within(c.keep_checkpoints(), 0, 1000, "keep_checkpoints");
  c.set_keep_checkpoints(c.keep_checkpoints() == 0 ? 2 : c.keep_checkpoints());
  Within(c.max_skipped_files_per_epoch(), 0, 1000000000, "max_skipped_files_per_epoch");
  c.set_max_skipped_files_per_epoch(c.max_skipped_files_per_epoch() == 0 ? 10 : c.max_skipped_files_per_epoch());
  Within(c.request_timeout_s(), 0, 30 * 24 * 3600, "request_timeout_s");
  c.set_request_timeout_s(c.request_timeout_s() == 0 ? 600 : c.request_timeout_s());
  return c;
}

std::pair<std::string, uint16_t> ParseHostPort(const std::string& field, const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw std::runtime_error(field + ": '" + text + "' is not host:port");
  }
  const std::string port_text = text.substr(colon + 1);
  int port = 0;
  for (char ch : port_text) {
    if (ch < '0' || ch > '9' || port > 65535) throw std::runtime_error(field + ": bad port in '" + text + "'");
    port = port * 10 + (ch - '0');
  }
  if (port < 1 || port > 65535) throw std::runtime_error(field + ": port of '" + text + "' outside 1..65535");
  return {text.substr(0, colon), static_cast<uint16_t>(port)};
}

proto::ClusterConfig ResolveClusterConfig(proto::ClusterConfig c) {
  c.set_version(kRunConfigVersion);
  if (c.workers_size() == 0) throw std::runtime_error("ClusterConfig.workers: no worker given");
  for (int i = 0; i < c.workers_size(); ++i) ParseHostPort("ClusterConfig.workers[" + std::to_string(i) + "]", c.workers(i));
  if (c.max_attempts() < 0) throw std::runtime_error("ClusterConfig.max_attempts: negative");
  c.set_max_attempts(c.max_attempts() == 0 ? 2 : c.max_attempts());
  if (c.job_timeout_s() < 0) throw std::runtime_error("ClusterConfig.job_timeout_s: negative");
  c.set_job_timeout_s(c.job_timeout_s() == 0 ? 3600 : c.job_timeout_s());
  return c;
}

}  // namespace gcl::actors

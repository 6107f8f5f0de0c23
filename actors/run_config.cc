#include "actors/run_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

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

}  // namespace

proto::RunConfig LoadRunConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open run config " + path);
  std::ostringstream text;
  text << in.rdbuf();
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  proto::RunConfig config;
  if (!parser.ParseFromString(text.str(), &config)) {
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
  Require(c.warmup_epochs() >= 0, "warmup_epochs", "negative");
  Require(c.gan_warmup_epochs() >= 0, "gan_warmup_epochs", "negative");
  Require(c.joint_epochs() >= 0, "joint_epochs", "negative");
  Require(c.warmup_epochs() + c.gan_warmup_epochs() + c.joint_epochs() > 0, "joint_epochs",
          "every phase has 0 epochs: nothing to train");
  Require(c.batch_size() >= 0, "batch_size", "negative");
  c.set_batch_size(c.batch_size() == 0 ? 16 : c.batch_size());           // reference §7
  Require(c.loader_workers() >= 0 && c.loader_workers() <= 256, "loader_workers", "outside 0..256");
  c.set_loader_workers(c.loader_workers() == 0 ? 2 : c.loader_workers());
  Require(c.prefetch_batches() >= 0, "prefetch_batches", "negative");
  c.set_prefetch_batches(c.prefetch_batches() == 0 ? 4 : c.prefetch_batches());
  Require(c.k1() >= 0 && c.k2() >= 0 && c.min_samples() >= 0, "k1/k2/min_samples", "negative");
  c.set_k1(c.k1() == 0 ? 30 : c.k1());                                    // reference §6
  c.set_k2(c.k2() == 0 ? 6 : c.k2());
  c.set_min_samples(c.min_samples() == 0 ? 4 : c.min_samples());
  Require(c.rho() >= 0 && c.rho() < 1, "rho", "outside [0, 1)");
  c.set_rho(c.rho() == 0 ? 1.6e-3 : c.rho());
  Require(c.clusterer_retries() >= 0, "clusterer_retries", "negative");
  c.set_clusterer_retries(c.clusterer_retries() == 0 ? 2 : c.clusterer_retries());
  Require(c.feature_dim() >= 0, "feature_dim", "negative");
  c.set_feature_dim(c.feature_dim() == 0 ? 512 : c.feature_dim());       // reference §5
  Require(c.momentum() >= 0 && c.momentum() < 1, "momentum", "outside [0, 1)");
  c.set_momentum(c.momentum() == 0 ? 0.2 : c.momentum());
  Require(c.temperature() >= 0, "temperature", "negative");
  c.set_temperature(c.temperature() == 0 ? 0.04 : c.temperature());
  Require(c.num_negatives() >= 0, "num_negatives", "negative");
  c.set_num_negatives(c.num_negatives() == 0 ? 8192 : c.num_negatives());
  Require(c.checkpoint_every_epochs() >= 0, "checkpoint_every_epochs", "negative");
  c.set_checkpoint_every_epochs(c.checkpoint_every_epochs() == 0 ? 1 : c.checkpoint_every_epochs());
  Require(c.keep_checkpoints() >= 0, "keep_checkpoints", "negative");
  c.set_keep_checkpoints(c.keep_checkpoints() == 0 ? 2 : c.keep_checkpoints());
  Require(c.max_skipped_files_per_epoch() >= 0, "max_skipped_files_per_epoch", "negative");
  c.set_max_skipped_files_per_epoch(c.max_skipped_files_per_epoch() == 0 ? 10 : c.max_skipped_files_per_epoch());
  Require(c.request_timeout_s() >= 0, "request_timeout_s", "negative");
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

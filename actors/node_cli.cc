#include "actors/node_cli.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "actors/gcl_backends.h"
#include "actors/protocol.h"
#include "actors/run_config.h"
#include "clustering/feature_io.h"
#include "common/user_path.h"

namespace gcl::actors {

NodeArgs NodeArgs::Parse(int argc, char** argv) {
  NodeArgs args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      throw std::runtime_error("argument '" + arg + "' is not --key=value or --key value");
    }
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      args.flags_.emplace_back(arg.substr(2, eq - 2), arg.substr(eq + 1));
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      args.flags_.emplace_back(arg.substr(2), argv[++i]);
    } else {
      throw std::runtime_error("flag '" + arg + "' has no value");
    }
  }
  return args;
}

std::string NodeArgs::Take(const std::string& key, const std::string& fallback) {
  std::vector<std::pair<std::string, std::string>> found = TakeOrdered({key});
  if (found.empty()) return fallback;
  if (found.size() > 1) throw std::runtime_error("--" + key + " is given " + std::to_string(found.size()) + " times");
  return found.front().second;
}

double NodeArgs::TakeNumber(const std::string& key, double fallback) {
  const std::string text = Take(key, "");
  if (text.empty()) return fallback;
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return value;
  } catch (const std::exception&) {
    throw std::runtime_error("--" + key + "=" + text + " is not a number");
  }
}

std::vector<std::pair<std::string, std::string>> NodeArgs::TakeOrdered(const std::vector<std::string>& keys) {
  std::vector<std::pair<std::string, std::string>> taken, kept;
  for (auto& flag : flags_) {
    (std::find(keys.begin(), keys.end(), flag.first) != keys.end() ? taken : kept).push_back(std::move(flag));
  }
  flags_ = std::move(kept);
  return taken;
}

bool NodeArgs::Has(const std::string& key) const {
  return std::any_of(flags_.begin(), flags_.end(), [&](const auto& flag) { return flag.first == key; });
}

void NodeArgs::ExpectEmpty(const std::string& role) const {
  if (!flags_.empty()) throw std::runtime_error("unknown flag --" + flags_.front().first + " for " + role);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

WorkerFlags TakeWorkerFlags(NodeArgs& args) {
  WorkerFlags flags;
  const double port = args.TakeNumber("port", flags.port);
  if (port < 0 || port > 65535) throw std::runtime_error("--port outside 0..65535");
  flags.port = static_cast<int>(port);
  flags.bind = args.Take("bind", flags.bind);
  flags.threads = static_cast<int>(args.TakeNumber("threads", 0));
  if (flags.threads < 0) throw std::runtime_error("--threads must be >= 0");
  return flags;
}

void ServeJobs(const WorkerFlags& flags, JobRegistry registry) {
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  const uint16_t bound = PublishWorker(system, std::move(registry), static_cast<uint16_t>(flags.port), flags.bind);
  std::printf("port %u\n", static_cast<unsigned>(bound));
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

void AddClusterJob(int threads, JobRegistry* registry) {
  (*registry)["cluster"] = [threads](const std::string& payload) { return RunClusterJob(payload, threads); };
}

proto::ClusterConfig TakeClusterConfig(NodeArgs& args) {
  proto::ClusterConfig cluster;
  for (const std::string& w : SplitList(args.Take("workers", ""))) cluster.add_workers(w);
  cluster.set_max_attempts(static_cast<int>(args.TakeNumber("max_attempts", 0)));
  cluster.set_job_timeout_s(static_cast<int>(args.TakeNumber("job_timeout_s", 0)));
  return ResolveClusterConfig(cluster);
}

proto::JobReport RunJobsOnNodes(const proto::ClusterConfig& config, const std::vector<proto::JobSpec>& jobs) {
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  return RunJobs(system, config, jobs);
}

int RunClusterCoordinator(NodeArgs& args, const proto::ClusterConfig& config) {
  proto::RunConfig settings;
  settings.set_k1(static_cast<int>(args.TakeNumber("k1", 30)));
  settings.set_k2(static_cast<int>(args.TakeNumber("k2", 6)));
  settings.set_rho(args.TakeNumber("rho", 0.0016));
  settings.set_min_samples(static_cast<int>(args.TakeNumber("min_samples", 4)));
  std::vector<std::string> files = SplitList(args.Take("features", ""));
  for (std::string& file : files) file = UserPath(file);
  const std::string out_dir = UserPath(args.Take("out_dir", "."));
  args.ExpectEmpty("a cluster coordinator");
  if (files.empty()) throw std::runtime_error("--features names no file");

  std::vector<proto::JobSpec> jobs;
  std::map<std::string, int64_t> rows;
  for (const std::string& file : files) {
    const clustering::FeatureMatrix m = clustering::ReadNpy(file);
    proto::ClusterJob job;
    job.set_version(kActorProtocolVersion);
    proto::BankSnapshot* bank = job.mutable_bank();
    bank->set_version(kActorProtocolVersion);
    proto::Tensor* t = bank->mutable_features();
    t->set_dtype(proto::DTYPE_FLOAT32);
    t->add_shape(m.rows);
    t->add_shape(m.cols);
    t->set_data(std::string(reinterpret_cast<const char*>(m.data.data()), m.data.size() * sizeof(float)));
    *job.mutable_config() = settings;
    proto::JobSpec spec;
    spec.set_version(kActorProtocolVersion);
    spec.set_job_id(std::filesystem::path(file).stem().string());
    spec.set_kind("cluster");
    spec.set_attempt(1);
    spec.set_payload(job.SerializeAsString());
    rows[spec.job_id()] = m.rows;
    jobs.push_back(std::move(spec));
  }
  const proto::JobReport report = RunJobsOnNodes(config, jobs);
  int status = 0;
  for (const proto::JobResult& result : report.results()) {
    if (!result.ok()) {
      std::printf("job %s FAILED on %s: %s\n", result.job_id().c_str(), result.worker().c_str(),
                  result.error().c_str());
      status = 1;
      continue;
    }
    proto::PseudoLabels labels;
    if (!labels.ParseFromString(result.payload()) || labels.labels_size() != rows[result.job_id()]) {
      std::printf("job %s: malformed labels from %s\n", result.job_id().c_str(), result.worker().c_str());
      status = 1;
      continue;
    }
    const std::string path = (std::filesystem::path(out_dir) / (result.job_id() + ".labels.txt")).string();
    std::ofstream out(path);
    for (int64_t l : labels.labels()) out << l << '\n';
    if (!out) throw std::runtime_error("cannot write " + path);
    std::printf("job %s on %s (try %d): %d clusters, %d outliers, eps %.4f, %.2f s -> %s\n", result.job_id().c_str(),
                result.worker().c_str(), result.attempt(), labels.num_clusters(), labels.num_outliers(),
                labels.eps(), result.seconds(), path.c_str());
  }
  for (const std::string& job : report.lost_jobs()) {
    std::printf("job %s LOST: every worker it was given to disappeared\n", job.c_str());
    status = 1;
  }
  for (const std::string& worker : report.lost_workers()) std::printf("worker lost: %s\n", worker.c_str());
  return status;
}

}  // namespace gcl::actors

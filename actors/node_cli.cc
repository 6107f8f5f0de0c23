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

#include "actors/basp_guard.h"
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
    if (arg == "--overwrite") {  // the one flag without a value
      args.flags_.emplace_back("overwrite", "true");
    } else if (eq != std::string::npos) {
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
  flags.job_limit_s = args.TakeNumber("job_limit_s", flags.job_limit_s);
  if (!(flags.job_limit_s > 0)) throw std::runtime_error("--job_limit_s must be > 0");
  flags.secret_file = UserPath(args.Take("secret_file", ""));
  return flags;
}

void TakeMessageLimit(NodeArgs& args) {
  const double mb = args.TakeNumber("max_message_mb", static_cast<double>(kDefaultMaxMessageBytes >> 20));
  if (!(mb >= 1 && mb <= 4095)) throw std::runtime_error("--max_message_mb must be from 1 to 4095");
  SetMaxMessageBytes(static_cast<uint64_t>(mb * (1 << 20)));
}

NodeSecret TakeNodeSecret(NodeArgs& args) { return NodeSecret::Load(UserPath(args.Take("secret_file", ""))); }

void ServeJobs(const WorkerFlags& flags, JobRegistry registry) {
  WorkerOptions options{NodeSecret::Load(flags.secret_file), flags.job_limit_s};
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  const uint16_t bound =
      PublishWorker(system, std::move(registry), static_cast<uint16_t>(flags.port), flags.bind, std::move(options));
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

proto::JobReport RunJobsOnNodes(const proto::ClusterConfig& config, const std::vector<proto::JobSpec>& jobs,
                                const NodeSecret& secret) {
  for (const proto::JobSpec& job : jobs) {
    // The message also carries the spec's other fields and CAF's framing; 1 MiB is far more than they take.
    const uint64_t bytes = job.ByteSizeLong() + (uint64_t{1} << 20);
    if (bytes > MaxMessageBytes()) {
      throw std::runtime_error("job '" + job.job_id() + "' is a message of " + std::to_string(bytes >> 20) +
                               " MiB, more than --max_message_mb=" + std::to_string(MaxMessageBytes() >> 20) +
                               "; raise it here and on the workers");
    }
  }
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  return RunJobs(system, config, jobs, secret);
}

int RunClusterCoordinator(NodeArgs& args, const proto::ClusterConfig& config, const NodeSecret& secret) {
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
  // Each file's labels go to <out_dir>/<stem>.labels.txt: two files with one stem would share (and lose) one.
  std::map<std::string, std::string> by_stem;
  for (const std::string& file : files) {
    const std::string stem = std::filesystem::path(file).stem().string();
    const auto [it, fresh] = by_stem.emplace(stem, file);
    if (!fresh) {
      throw std::runtime_error("--features: " + it->second + " and " + file + " have the same name '" + stem +
                               "', so both labels would be written to " +
                               (std::filesystem::path(out_dir) / (stem + ".labels.txt")).string() +
                               "; rename one of them (or cluster them in two runs with different --out_dir)");
    }
  }

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
  const proto::JobReport report = RunJobsOnNodes(config, jobs, secret);
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

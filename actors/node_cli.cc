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
#include "actors/protocol.h"
#include "actors/run_config.h"
#include "clustering/feature_io.h"
#include "common/user_path.h"

namespace gcl::actors {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

void AddWorkerFlags(FlagSet* flags, WorkerFlags* worker) {
  flags->Int("port", &worker->port, "worker: the port to listen on (0: a free one, printed as \"port N\")")
      .Min(0)
      .Max(65535);
  flags->String("bind", &worker->bind, "ADDRESS", "worker: the address to listen on (0.0.0.0: every interface)");
  flags->Int("threads", &worker->threads, "worker: LibTorch threads per job (0: the default count)").Min(0).Max(4096);
  flags
      ->Double("job_limit_s", &worker->job_limit_s,
               "worker: the watchdog: a job running longer is answered as failed and the worker exits (status 3)")
      .Min(1);
}

std::vector<std::string> WorkerFlagNames() {
  std::vector<std::string> names = {"role", "port", "bind", "threads", "job_limit_s"};
  for (const std::string& n : SecurityFlagNames()) names.push_back(n);
  return names;
}

void AddSecurityFlags(FlagSet* flags, SecurityFlags* security) {
  flags->String("secret_file", &security->secret_file, "FILE",
                "the shared secret of every node of a job (>= 16 bytes, chmod 600); else $GCL_NODE_SECRET");
  flags
      ->Int("max_message_mb", &security->max_message_mb,
            "the largest message accepted from the network, refused from its header before allocation")
      .Min(1)
      .Max(4095);
}

std::vector<std::string> SecurityFlagNames() { return {"secret_file", "max_message_mb"}; }

NodeSecret ApplySecurityFlags(const SecurityFlags& security) {
  SetMaxMessageBytes(static_cast<uint64_t>(security.max_message_mb) << 20);
  return NodeSecret::Load(UserPath(security.secret_file));
}

void AddClusterFlags(FlagSet* flags, ClusterFlags* cluster) {
  flags->String("workers", &cluster->workers, "HOST:PORT,...", "coordinator: the worker nodes");
  flags->Int("max_attempts", &cluster->max_attempts, "coordinator: tries per job before it is reported lost (0: 2)")
      .Min(0)
      .Max(1000);
  flags
      ->Int("job_timeout_s", &cluster->job_timeout_s,
            "coordinator: seconds without a job's result before its worker counts as lost\n"
            "(0: 3600 for --features, 604800 for train jobs)")
      .Min(0);
}

std::vector<std::string> ClusterFlagNames() {
  std::vector<std::string> names = {"role", "workers", "max_attempts", "job_timeout_s"};
  for (const std::string& n : SecurityFlagNames()) names.push_back(n);
  return names;
}

proto::ClusterConfig ResolvedClusterConfig(const ClusterFlags& flags) {
  proto::ClusterConfig cluster;
  for (const std::string& w : SplitList(flags.workers)) cluster.add_workers(w);
  cluster.set_max_attempts(flags.max_attempts);
  cluster.set_job_timeout_s(flags.job_timeout_s);
  return ResolveClusterConfig(cluster);
}

void AddClusterJobFlags(FlagSet* flags, ClusterJobFlags* job) {
  flags->String("features", &job->features, "A.npy,B.npy",
                "coordinator: cluster each features file (N x D float32 .npy) on a worker into\n"
                "<out_dir>/<stem>.labels.txt");
  flags->Int("k1", &job->k1, "--features: k-reciprocal neighbours").Min(1).Max(10000);
  flags->Int("k2", &job->k2, "--features: query expansion neighbours").Min(1).Max(10000);
  flags->Double("rho", &job->rho, "--features: adaptive eps fraction").Min(1e-9).Max(0.999999);
  flags->Int("min_samples", &job->min_samples, "--features: DBSCAN core-point neighbourhood size").Min(1).Max(100000);
}

std::vector<std::string> ClusterJobFlagNames() { return {"features", "k1", "k2", "rho", "min_samples", "out_dir"}; }

void ServeJobs(const WorkerFlags& flags, const NodeSecret& secret, JobRegistry registry) {
  WorkerOptions options{secret, flags.job_limit_s};
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

int RunClusterCoordinator(const ClusterJobFlags& flags, const proto::ClusterConfig& config, const NodeSecret& secret) {
  proto::RunConfig settings;
  settings.set_k1(flags.k1);
  settings.set_k2(flags.k2);
  settings.set_rho(flags.rho);
  settings.set_min_samples(flags.min_samples);
  std::vector<std::string> files = SplitList(flags.features);
  for (std::string& file : files) file = UserPath(file);
  const std::string out_dir = UserPath(flags.out_dir);
  if (files.empty()) throw FlagError("--features names no file");
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

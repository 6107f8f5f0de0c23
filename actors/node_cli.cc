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
}

std::vector<std::string> WorkerFlagNames() { return {"role", "port", "bind", "threads"}; }

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

std::vector<std::string> ClusterFlagNames() { return {"role", "workers", "max_attempts", "job_timeout_s"}; }

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

proto::JobReport RunJobsOnNodes(const proto::ClusterConfig& config, const std::vector<proto::JobSpec>& jobs) {
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  return RunJobs(system, config, jobs);
}

int RunClusterCoordinator(const ClusterJobFlags& flags, const proto::ClusterConfig& config) {
  proto::RunConfig settings;
  settings.set_k1(flags.k1);
  settings.set_k2(flags.k2);
  settings.set_rho(flags.rho);
  settings.set_min_samples(flags.min_samples);
  std::vector<std::string> files = SplitList(flags.features);
  for (std::string& file : files) file = UserPath(file);
  const std::string out_dir = UserPath(flags.out_dir);
  if (files.empty()) throw FlagError("--features names no file");

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

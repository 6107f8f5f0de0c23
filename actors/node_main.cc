// A node of a distributed job. Roles:
//
//   node --role=worker --port=4242 [--bind=127.0.0.1] [--threads=0]
//       Publishes a job worker (job kinds: "cluster") and serves until killed. Prints "port <N>" once listening
//       (--port=0 picks a free port).
//
//   node --role=coordinator --workers=127.0.0.1:4242,127.0.0.1:4243 --features=market.npy,duke.npy
//        [--k1=30] [--k2=6] [--rho=0.0016] [--min_samples=4] [--max_attempts=2] [--job_timeout_s=3600]
//        [--out_dir=.]
//       Hands one "cluster" job per features file (N x D float32 .npy, e.g. a memory bank) to the workers, writes
//       <out_dir>/<file stem>.labels.txt (one pseudo label per row, -1 = outlier) and prints one line per job.
//       A worker that disappears is detected and its job re-queued; exits 1 when a job failed or was lost.
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/user_path.h"
#include "actors/distributed.h"
#include "actors/gcl_backends.h"
#include "actors/protocol.h"
#include "actors/run_config.h"
#include "clustering/feature_io.h"

namespace {

using gcl::actors::AddProtocolTypes;

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// --key=value flags; throws naming an argument that is not one.
std::map<std::string, std::string> ParseFlags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      throw std::runtime_error("argument '" + arg + "' is not --key=value");
    }
    flags[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
  }
  return flags;
}

std::string Take(std::map<std::string, std::string>& flags, const std::string& key, const std::string& fallback) {
  auto it = flags.find(key);
  if (it == flags.end()) return fallback;
  std::string value = it->second;
  flags.erase(it);
  return value;
}

double Number(const std::string& key, const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return value;
  } catch (const std::exception&) {
    throw std::runtime_error("--" + key + "=" + text + " is not a number");
  }
}

int RunWorker(std::map<std::string, std::string> flags) {
  const int port = static_cast<int>(Number("port", Take(flags, "port", "4242")));
  const std::string bind = Take(flags, "bind", "127.0.0.1");
  const int threads = static_cast<int>(Number("threads", Take(flags, "threads", "0")));
  if (!flags.empty()) throw std::runtime_error("unknown flag --" + flags.begin()->first + " for a worker");
  if (port < 0 || port > 65535) throw std::runtime_error("--port outside 0..65535");
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  gcl::actors::JobRegistry registry;
  registry["cluster"] = [threads](const std::string& payload) { return gcl::actors::RunClusterJob(payload, threads); };
  const uint16_t bound = gcl::actors::PublishWorker(system, registry, static_cast<uint16_t>(port), bind);
  std::printf("port %u\n", static_cast<unsigned>(bound));
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

int RunCoordinator(std::map<std::string, std::string> flags) {
  gcl::proto::ClusterConfig cluster;
  for (const std::string& w : Split(Take(flags, "workers", ""))) cluster.add_workers(w);
  cluster.set_max_attempts(static_cast<int>(Number("max_attempts", Take(flags, "max_attempts", "0"))));
  cluster.set_job_timeout_s(static_cast<int>(Number("job_timeout_s", Take(flags, "job_timeout_s", "0"))));
  cluster = gcl::actors::ResolveClusterConfig(cluster);
  gcl::proto::RunConfig settings;
  settings.set_k1(static_cast<int>(Number("k1", Take(flags, "k1", "30"))));
  settings.set_k2(static_cast<int>(Number("k2", Take(flags, "k2", "6"))));
  settings.set_rho(Number("rho", Take(flags, "rho", "0.0016")));
  settings.set_min_samples(static_cast<int>(Number("min_samples", Take(flags, "min_samples", "4"))));
  std::vector<std::string> files = Split(Take(flags, "features", ""));
  for (std::string& file : files) file = gcl::UserPath(file);
  const std::string out_dir = gcl::UserPath(Take(flags, "out_dir", "."));
  if (!flags.empty()) throw std::runtime_error("unknown flag --" + flags.begin()->first + " for a coordinator");
  if (files.empty()) throw std::runtime_error("--features names no file");

  std::vector<gcl::proto::JobSpec> jobs;
  std::map<std::string, int64_t> rows;
  for (const std::string& file : files) {
    const gcl::clustering::FeatureMatrix m = gcl::clustering::ReadNpy(file);
    gcl::proto::ClusterJob job;
    job.set_version(gcl::actors::kActorProtocolVersion);
    gcl::proto::BankSnapshot* bank = job.mutable_bank();
    bank->set_version(gcl::actors::kActorProtocolVersion);
    gcl::proto::Tensor* t = bank->mutable_features();
    t->set_dtype(gcl::proto::DTYPE_FLOAT32);
    t->add_shape(m.rows);
    t->add_shape(m.cols);
    t->set_data(std::string(reinterpret_cast<const char*>(m.data.data()), m.data.size() * sizeof(float)));
    *job.mutable_config() = settings;
    gcl::proto::JobSpec spec;
    spec.set_version(gcl::actors::kActorProtocolVersion);
    spec.set_job_id(std::filesystem::path(file).stem().string());
    spec.set_kind("cluster");
    spec.set_attempt(1);
    spec.set_payload(job.SerializeAsString());
    rows[spec.job_id()] = m.rows;
    jobs.push_back(std::move(spec));
  }
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  const gcl::proto::JobReport report = gcl::actors::RunJobs(system, cluster, jobs);
  int status = 0;
  for (const gcl::proto::JobResult& result : report.results()) {
    if (!result.ok()) {
      std::printf("job %s FAILED on %s: %s\n", result.job_id().c_str(), result.worker().c_str(),
                  result.error().c_str());
      status = 1;
      continue;
    }
    gcl::proto::PseudoLabels labels;
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

}  // namespace

constexpr char kUsage[] =
    "usage: node --role=worker --port=4242 [--bind=127.0.0.1] [--threads=0]\n"
    "       node --role=coordinator --workers=HOST:PORT,... --features=A.npy,B.npy [--k1=30] [--k2=6]\n"
    "            [--rho=0.0016] [--min_samples=4] [--max_attempts=2] [--job_timeout_s=3600] [--out_dir=.]\n";

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
  }
  try {
    std::map<std::string, std::string> flags = ParseFlags(argc, argv);
    const std::string role = Take(flags, "role", "");
    if (role == "worker") return RunWorker(std::move(flags));
    if (role == "coordinator") return RunCoordinator(std::move(flags));
    std::fprintf(stderr, "node: --role=worker or --role=coordinator is required\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "node: %s\n", e.what());
    return 2;
  }
}

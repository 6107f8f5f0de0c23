// node: a node of a distributed job with the job kinds "train" (a whole training run per dataset) and "cluster"
// (a bank to cluster). Start workers on the machines, then one coordinator that hands them the jobs:
//
//   node --role=worker --port=4242 --work_dir=/scratch/gcl                     # on each machine
//   node --role=coordinator --workers=m1:4242,m2:4242 --config=tiny --out_dir=runs/two_worlds
//        --job=world1 --set=data.synthetic_seed=1 --job=world2 --set=data.synthetic_seed=2   # (one command)
//
// The coordinator writes <out_dir>/report.json and report.md (a row per job: baseline and GCL mAP / rank-1,
// worker, tries, status); a worker that disappears is detected and its job re-queued on another one or reported
// lost. docs/ARCHITECTURE.md ("Distribution") has the details and a run's output.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "actors/node_cli.h"
#include "common/flags.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "training/bank_cluster_backends.h"
#include "training/train_job.h"

namespace {

constexpr char kAbout[] = R"(
  node --role=worker [--port=4242] [--bind=127.0.0.1] [--threads=0] [--work_dir=.] [--data_roots=DIR,...]
       [--job_limit_s=604800] [--secret_file=FILE] [--max_message_mb=512]
      Serves "train" and "cluster" jobs until killed; prints "port <N>" once listening (--port=0: a free port).
      A train job runs into <work_dir>/<run.output_dir>/<job name> (default runs/<job name>); relative data paths
      of its config resolve against --work_dir. The worker checks every job itself: its run folder must lie inside
      --work_dir, its data, mesh renders, synthetic-world cache and model.identity_init inside --work_dir or one of
      --data_roots. A job running longer than --job_limit_s is answered as failed and the worker process ends.
      --threads: LibTorch threads (0: every CPU of the process, or $GCL_NUM_THREADS).

  node --role=coordinator --workers=HOST:PORT,... [--out_dir=runs/distributed] [--max_attempts=2]
       [--job_timeout_s=604800] [--overwrite] [--secret_file=FILE] [--max_message_mb=512]
       [--config=NAME|FILE] [--set=FIELD=VALUE]... (--job=NAME [--config=NAME|FILE] [--set=FIELD=VALUE]...)...
       | --jobs=FILE
      Hands one train job per --job (or per entry of a text-format TrainJobFile, proto/train_job.proto) to the
      workers. --config / --set before the first --job apply to every job; after a --job, to that job only (its
      --set after the common ones). --config is a preset of configs/ (quick [default], tiny, paper_market, ...) or
      a TrainConfig file; --set as in `train --set`. The job name is the run's name. Writes <out_dir>/report.json
      and report.md, prints report.md; exits 1 when a job failed, stopped or was lost, 2 for bad arguments.
      A worker that disappears (connection lost, or no answer within --job_timeout_s) is dropped and its job
      re-queued on another worker until --max_attempts tries were made. A job whose run folder already exists on
      its worker fails, unless --overwrite (which replaces that folder).

  node --role=coordinator --workers=HOST:PORT,... --features=A.npy,B.npy [--k1=30] [--k2=6] [--rho=0.0016]
       [--min_samples=4] [--max_attempts=2] [--job_timeout_s=3600] [--out_dir=.]
      Clusters each features file (N x D float32 .npy) on a worker into <out_dir>/<stem>.labels.txt.

  Every node of a job needs the same secret, at least 16 bytes: --secret_file=FILE (readable by its owner only)
  or the environment variable GCL_NODE_SECRET. A worker runs only jobs authenticated with it (HMAC-SHA256 over a
  fresh nonce); the coordinator believes only results authenticated with it. --max_message_mb: the largest
  message a node accepts from the network (checked before it is read).
)";

// `a` followed by `b` (the flag names of a role).
std::vector<std::string> Joined(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A training run takes hours at paper size; a dead worker is noticed by its dropped connection long before this.
constexpr int kTrainJobTimeoutS = 7 * 24 * 3600;

[[noreturn]] void RunWorker(const gcl::actors::WorkerFlags& worker, const std::string& work_dir_flag,
                            const std::string& data_roots, const gcl::actors::NodeSecret& secret) {
  gcl::training::TrainWorkerLimits limits;
  limits.work_dir =
      std::filesystem::absolute(gcl::UserPath(work_dir_flag.empty() ? gcl::UserWorkingDir() : work_dir_flag)).string();
  for (const std::string& root : gcl::actors::SplitList(data_roots)) {
    limits.data_roots.push_back(std::filesystem::absolute(gcl::UserPath(root)).string());
  }
  std::filesystem::create_directories(limits.work_dir);
  gcl::WarnIfSlowBlas();
  gcl::actors::JobRegistry registry;
  gcl::training::AddClusterJob(worker.threads, &registry);
  const int threads = worker.threads;
  registry[gcl::training::kTrainJobKind] = [limits, threads](const std::string& payload) {
    return gcl::training::RunTrainJob(payload, limits, threads);
  };
  gcl::actors::ServeJobs(worker, secret, std::move(registry));
}

// --job / --config / --set in command-line order -> one request per --job (or per entry of --jobs=FILE).
std::vector<gcl::training::TrainJobRequest> TrainRequests(
    const std::vector<std::pair<std::string, std::string>>& ordered, const std::string& jobs_file) {
  std::string common_config;
  std::vector<std::string> common_sets;
  std::vector<gcl::training::TrainJobRequest> requests;
  for (const auto& [key, value] : ordered) {
    if (key == "job") {
      if (!jobs_file.empty()) throw gcl::FlagError("give the jobs either as --job flags or as --jobs=FILE");
      for (const auto& r : requests) {
        if (r.name == value) throw gcl::FlagError("--job=" + value + " is given twice");
      }
      requests.push_back({value, "", common_sets});
    } else if (key == "config") {
      std::string& config = requests.empty() ? common_config : requests.back().config;
      if (!config.empty()) throw gcl::FlagError("--config is given twice for the same job(s)");
      config = value;
    } else {
      (requests.empty() ? common_sets : requests.back().sets).push_back(value);
    }
  }
  if (common_config.empty()) common_config = "quick";
  if (!jobs_file.empty()) {
    requests = gcl::training::LoadTrainJobFile(gcl::UserPath(jobs_file), common_config);
    for (auto& r : requests) r.sets.insert(r.sets.begin(), common_sets.begin(), common_sets.end());
  }
  for (auto& r : requests) {
    if (r.config.empty()) r.config = common_config;
  }
  if (requests.empty()) throw gcl::FlagError("no job: give --job=NAME (repeatable), --jobs=FILE or --features");
  return requests;
}

int RunTrainCoordinator(std::vector<gcl::training::TrainJobRequest> requests, gcl::proto::ClusterConfig cluster,
                        bool timeout_given, const std::string& out_dir_flag, bool overwrite,
                        const gcl::actors::NodeSecret& secret) {
  const std::string working_dir = gcl::UserWorkingDir();
  if (!timeout_given) cluster.set_job_timeout_s(kTrainJobTimeoutS);
  const std::string out_dir = gcl::UserPath(out_dir_flag.empty() ? "runs/distributed" : out_dir_flag);
  std::vector<gcl::proto::JobSpec> jobs;
  for (auto& request : requests) {
    request.overwrite = overwrite;
    jobs.push_back(gcl::training::MakeTrainJob(request, working_dir));
  }
  const auto start = std::chrono::steady_clock::now();
  const gcl::proto::JobReport report = gcl::actors::RunJobsOnNodes(cluster, jobs, secret);
  gcl::proto::TrainJobsReport gathered = gcl::training::GatherTrainReport(cluster, jobs, report);
  gathered.set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  gcl::training::WriteTrainReport(out_dir, gathered);
  std::printf("%s\n(report.json and report.md in %s)\n", gcl::training::TrainReportMarkdown(gathered).c_str(),
              out_dir.c_str());
  for (const gcl::proto::TrainJobRow& row : gathered.rows()) {
    if (row.status() != "done") return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return gcl::RunCommand("node", 2, [&]() -> int {
    std::string role, work_dir, data_roots, jobs_file, out_dir;
    bool overwrite = false;
    gcl::actors::WorkerFlags worker;
    gcl::actors::ClusterFlags cluster;
    gcl::actors::ClusterJobFlags cluster_job;
    gcl::actors::SecurityFlags security;
    std::vector<std::pair<std::string, std::string>> ordered;  // --job, --config, --set in command-line order
    gcl::FlagSet flags("node", "node --role=worker|coordinator [flags]   (the roles below)", kAbout);
    flags.String("role", &role, "worker|coordinator", "what this node does").Required();
    gcl::actors::AddWorkerFlags(&flags, &worker);
    flags.String("work_dir", &work_dir, "DIR", "worker: the folder train jobs run in (default: the current one)");
    flags.String("data_roots", &data_roots, "DIR,...",
                 "worker: folders besides --work_dir that train jobs may read data and weights from");
    gcl::actors::AddSecurityFlags(&flags, &security);
    gcl::actors::AddClusterFlags(&flags, &cluster);
    flags.Sequence("job", &ordered, "NAME", "coordinator: one train job (the run's name)");
    flags.Sequence("config", &ordered, "NAME|FILE",
                   "coordinator: before the first --job for every job, after one for it");
    flags.Sequence("set", &ordered, "FIELD=VALUE", "coordinator: as `train --set`, placed like --config");
    flags.String("jobs", &jobs_file, "FILE", "coordinator: the train jobs as a text-format TrainJobFile");
    gcl::actors::AddClusterJobFlags(&flags, &cluster_job);
    flags.String("out_dir", &out_dir, "DIR",
                 "coordinator: the report's folder (default runs/distributed; . for --features)");
    flags.Bool("overwrite", &overwrite, "coordinator: train jobs may replace runs of the same name on the workers");
    if (!flags.Parse(argc, argv)) return 0;
    if (role == "worker") {
      flags.ExpectOnly(Joined(gcl::actors::WorkerFlagNames(), {"work_dir", "data_roots"}), "a worker");
      RunWorker(worker, work_dir, data_roots, gcl::actors::ApplySecurityFlags(security));
    }
    if (role != "coordinator") throw gcl::FlagError("--role=" + role + ": must be worker or coordinator");
    const gcl::proto::ClusterConfig config = gcl::actors::ResolvedClusterConfig(cluster);
    if (flags.Given("features")) {
      if (!ordered.empty() || !jobs_file.empty()) throw gcl::FlagError("--features and train jobs in one run");
      flags.ExpectOnly(Joined(gcl::actors::ClusterFlagNames(), gcl::actors::ClusterJobFlagNames()),
                       "a cluster coordinator");
      cluster_job.out_dir = out_dir.empty() ? "." : out_dir;
      return gcl::actors::RunClusterCoordinator(cluster_job, config, gcl::actors::ApplySecurityFlags(security));
    }
    flags.ExpectOnly(Joined(gcl::actors::ClusterFlagNames(), {"job", "config", "set", "jobs", "out_dir", "overwrite"}),
                     "a train coordinator");
    std::vector<gcl::training::TrainJobRequest> requests = TrainRequests(ordered, jobs_file);
    return RunTrainCoordinator(std::move(requests), config, flags.Given("job_timeout_s"), out_dir, overwrite,
                               gcl::actors::ApplySecurityFlags(security));
  });
}

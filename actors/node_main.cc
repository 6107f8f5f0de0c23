// A node of a distributed clustering job (job kind "cluster"; //tools/node:node adds "train"). Roles:
//
//   node --role=worker --port=4242 [--bind=127.0.0.1] [--threads=0] [--job_limit_s=604800] [--secret_file=FILE]
//       Publishes a job worker (job kinds: "cluster") and serves until killed. Prints "port <N>" once listening
//       (--port=0 picks a free port). Runs only jobs authenticated with the shared secret (--secret_file, else
//       $GCL_NODE_SECRET; the coordinator needs the same one).
//
//   node --role=coordinator --workers=127.0.0.1:4242,127.0.0.1:4243 --features=market.npy,duke.npy
//        [--k1=30] [--k2=6] [--rho=0.0016] [--min_samples=4] [--max_attempts=2] [--job_timeout_s=3600]
//        [--out_dir=.]
//       Hands one "cluster" job per features file (N x D float32 .npy, e.g. a memory bank) to the workers, writes
//       <out_dir>/<file stem>.labels.txt (one pseudo label per row, -1 = outlier) and prints one line per job.
//       A worker that disappears is detected and its job re-queued; exits 1 when a job failed or was lost.
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "actors/node_cli.h"

int main(int argc, char** argv) {
  using gcl::actors::NodeArgs;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("usage: node %s\n       node %s\n", gcl::actors::kWorkerUsage, gcl::actors::kClusterCoordinatorUsage);
      return 0;
    }
  }
  try {
    NodeArgs args = NodeArgs::Parse(argc, argv);
    gcl::actors::TakeMessageLimit(args);
    const std::string role = args.Take("role", "");
    if (role == "worker") {
      const gcl::actors::WorkerFlags worker = gcl::actors::TakeWorkerFlags(args);
      args.ExpectEmpty("a worker");
      gcl::actors::JobRegistry registry;
      gcl::actors::AddClusterJob(worker.threads, &registry);
      gcl::actors::ServeJobs(worker, std::move(registry));
    }
    if (role == "coordinator") {
      const gcl::actors::NodeSecret secret = gcl::actors::TakeNodeSecret(args);
      const gcl::proto::ClusterConfig config = gcl::actors::TakeClusterConfig(args);
      return gcl::actors::RunClusterCoordinator(args, config, secret);
    }
    std::fprintf(stderr, "node: --role=worker or --role=coordinator is required\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "node: %s\n", e.what());
    return 2;
  }
}

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
#include <string>
#include <utility>

#include "actors/node_cli.h"
#include "common/flags.h"

int main(int argc, char** argv) {
  return gcl::RunCommand("node", 2, [&]() -> int {
    std::string role;
    gcl::actors::WorkerFlags worker;
    gcl::actors::ClusterFlags cluster;
    gcl::actors::ClusterJobFlags job;
    gcl::actors::SecurityFlags security;
    gcl::FlagSet flags("node",
                       "node --role=worker [--port=4242] ... | node --role=coordinator --workers=HOST:PORT,... "
                       "--features=A.npy,B.npy [flags]",
                       "A node of a distributed clustering job (job kind \"cluster\"): workers serve until killed; a "
                       "coordinator hands one job per features file to them. Every node of a job needs the same "
                       "secret: --secret_file=FILE (chmod 600) or $GCL_NODE_SECRET, >= 16 bytes.");
    flags.String("role", &role, "worker|coordinator", "what this node does").Required();
    gcl::actors::AddWorkerFlags(&flags, &worker);
    gcl::actors::AddClusterFlags(&flags, &cluster);
    gcl::actors::AddClusterJobFlags(&flags, &job);
    gcl::actors::AddSecurityFlags(&flags, &security);
    flags.String("out_dir", &job.out_dir, "DIR", "coordinator: where the label files go");
    if (!flags.Parse(argc, argv)) return 0;
    if (role == "worker") {
      flags.ExpectOnly(gcl::actors::WorkerFlagNames(), "a worker");
      const gcl::actors::NodeSecret secret = gcl::actors::ApplySecurityFlags(security);
      gcl::actors::JobRegistry registry;
      gcl::actors::AddClusterJob(worker.threads, &registry);
      gcl::actors::ServeJobs(worker, secret, std::move(registry));
    }
    if (role != "coordinator") throw gcl::FlagError("--role=" + role + ": must be worker or coordinator");
    std::vector<std::string> allowed = gcl::actors::ClusterFlagNames();
    for (const std::string& name : gcl::actors::ClusterJobFlagNames()) allowed.push_back(name);
    flags.ExpectOnly(allowed, "a cluster coordinator");
    const gcl::actors::NodeSecret secret = gcl::actors::ApplySecurityFlags(security);
    return gcl::actors::RunClusterCoordinator(job, gcl::actors::ResolvedClusterConfig(cluster), secret);
  });
}

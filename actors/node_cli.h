// The command line of a distributed-job node, shared by the node binaries (actors/node_main.cc: job kind
// "cluster"; tools/node/node_main.cc: "cluster" and "train"), so that each main only adds its own job kinds.
// Flags are declared on a gcl::FlagSet (common/flags.h) by role; a flag of another role is refused.
//
//   gcl::FlagSet flags("node", "...");
//   std::string role;
//   flags.String("role", &role, "worker|coordinator", "...");
//   WorkerFlags worker;
//   AddWorkerFlags(&flags, &worker);
//   ClusterFlags cluster;
//   AddClusterFlags(&flags, &cluster);
//   SecurityFlags security;
//   AddSecurityFlags(&flags, &security);
//   if (!flags.Parse(argc, argv)) return 0;
//   const NodeSecret secret = ApplySecurityFlags(security);   // every node of a job shares the secret
//   if (role == "worker") {
//     flags.ExpectOnly(WorkerFlagNames(), "a worker");
//     JobRegistry registry;
//     AddClusterJob(worker.threads, &registry);
//     ServeJobs(worker, secret, std::move(registry));      // serves until killed
//   }
//   // coordinator: ResolvedClusterConfig(cluster), then RunClusterCoordinator(...) or your own job list and
//   // RunJobsOnNodes(config, jobs, secret).
#ifndef GCL_ACTORS_NODE_CLI_H_
#define GCL_ACTORS_NODE_CLI_H_

#include <string>
#include <utility>
#include <vector>

#include "actors/basp_guard.h"
#include "actors/distributed.h"
#include "actors/node_auth.h"
#include "common/flags.h"
#include "proto/actor_protocol.pb.h"
#include "proto/run_config.pb.h"

namespace gcl::actors {

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text);

// --port (default 4242; 0 picks a free one), --bind (default 127.0.0.1), --threads (0: the default count),
// --job_limit_s (the watchdog: the longest one job may run here; default a week).
struct WorkerFlags {
  int port = 4242;
  std::string bind = "127.0.0.1";
  int threads = 0;
  double job_limit_s = 7 * 24 * 3600;
};
void AddWorkerFlags(FlagSet* flags, WorkerFlags* worker);
// The flags a worker accepts: role and AddWorkerFlags's.
std::vector<std::string> WorkerFlagNames();

// A coordinator's --workers=h:p,h:p, --max_attempts, --job_timeout_s.
struct ClusterFlags {
  std::string workers;
  int max_attempts = 0;   // 0: ResolveClusterConfig's default
  int job_timeout_s = 0;  // 0: the default of the job kind
};
void AddClusterFlags(FlagSet* flags, ClusterFlags* cluster);
std::vector<std::string> ClusterFlagNames();
// The flags as a ClusterConfig, resolved (defaults, checks) with ResolveClusterConfig.
proto::ClusterConfig ResolvedClusterConfig(const ClusterFlags& cluster);

// The "cluster" coordinator's --features=a.npy,b.npy, --k1, --k2, --rho, --min_samples. `out_dir` is the main's
// --out_dir (its default differs between the binaries' roles).
struct ClusterJobFlags {
  std::string features;
  int k1 = 30;
  int k2 = 6;
  double rho = 0.0016;
  int min_samples = 4;
  std::string out_dir = ".";
};
void AddClusterJobFlags(FlagSet* flags, ClusterJobFlags* job);
std::vector<std::string> ClusterJobFlagNames();

// A node's security flags, both roles: --secret_file=FILE (else $GCL_NODE_SECRET; actors/node_auth.h) and
// --max_message_mb (default 512): the largest message this node accepts from the network, refused from its header
// before anything is allocated (actors/basp_guard.h).
struct SecurityFlags {
  std::string secret_file;
  int max_message_mb = static_cast<int>(kDefaultMaxMessageBytes >> 20);
};
void AddSecurityFlags(FlagSet* flags, SecurityFlags* security);
std::vector<std::string> SecurityFlagNames();
// Sets the process's message limit from the flags and loads the secret; throws saying how to give one.
NodeSecret ApplySecurityFlags(const SecurityFlags& security);

// Publishes a worker for `registry` that accepts jobs signed with `secret` and serves until the process is killed.
// Prints "port <N>" on stdout once listening, so that a script (or a test) that passed --port=0 learns the port.
// Throws when publishing fails.
[[noreturn]] void ServeJobs(const WorkerFlags& flags, const NodeSecret& secret, JobRegistry registry);

// Runs `jobs` on the workers of `config` from a fresh actor system with the middleman loaded, every job signed with
// `secret`. Throws naming the job when one is larger than the message limit (ApplySecurityFlags): the workers would
// refuse it.
proto::JobReport RunJobsOnNodes(const proto::ClusterConfig& config, const std::vector<proto::JobSpec>& jobs,
                                const NodeSecret& secret);

// The "cluster" coordinator: clusters each file of job.features on a worker, writes <out_dir>/<stem>.labels.txt,
// prints one line per job; returns the exit status (1 when a job failed or was lost). Two files with the same stem
// are refused before any work (their labels would land in one file).
int RunClusterCoordinator(const ClusterJobFlags& job, const proto::ClusterConfig& config, const NodeSecret& secret);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_NODE_CLI_H_

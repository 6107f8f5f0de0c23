// The command line of a distributed-job node, shared by the node binaries (actors/node_main.cc: job kind
// "cluster"; tools/node/node_main.cc: "cluster" and "train"), so that each main only adds its own job kinds.
//
//   NodeArgs args = NodeArgs::Parse(argc, argv);           // --key=value or --key value, in order
//   if (args.Take("role", "") == "worker") {
//     const WorkerFlags worker = TakeWorkerFlags(args);
//     args.ExpectEmpty("a worker");
//     JobRegistry registry;
//     AddClusterJob(worker.threads, &registry);
//     ServeJobs(worker, std::move(registry));              // serves until killed
//   }
//   // coordinator: TakeClusterConfig(args), then RunClusterCoordinator(args, config) or your own job list and
//   // RunJobsOnNodes(config, jobs).
#ifndef GCL_ACTORS_NODE_CLI_H_
#define GCL_ACTORS_NODE_CLI_H_

#include <string>
#include <utility>
#include <vector>

#include "actors/distributed.h"
#include "proto/actor_protocol.pb.h"
#include "proto/run_config.pb.h"

namespace gcl::actors {

// The flags of a node's command line, in the order given; a key may repeat (e.g. --set).
class NodeArgs {
 public:
  // Accepts `--key=value` and `--key value` (and `--overwrite`, which is `--overwrite=true`); throws
  // std::runtime_error naming an argument that is neither.
  static NodeArgs Parse(int argc, char** argv);

  // Removes and returns the value of a flag given at most once (`fallback` when absent); throws when it is
  // given twice, since silently keeping one of them would hide a typo.
  std::string Take(const std::string& key, const std::string& fallback);
  // Take() parsed as a number; throws naming the flag when the text is not one.
  double TakeNumber(const std::string& key, double fallback);
  // Removes and returns the flags whose key is in `keys`, in command-line order (for order-sensitive lists such
  // as `--job=a --set=x=1 --job=b`).
  std::vector<std::pair<std::string, std::string>> TakeOrdered(const std::vector<std::string>& keys);
  bool Has(const std::string& key) const;
  // Throws "unknown flag --x for <role>" when a flag is left over.
  void ExpectEmpty(const std::string& role) const;

 private:
  std::vector<std::pair<std::string, std::string>> flags_;
};

// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> SplitList(const std::string& text);

// --port (default 4242; 0 picks a free one), --bind (default 127.0.0.1), --threads (0: the default count),
// --job_limit_s (the watchdog: the longest one job may run here; default a week), --secret_file (else
// $GCL_NODE_SECRET).
struct WorkerFlags {
  int port = 4242;
  std::string bind = "127.0.0.1";
  int threads = 0;
  double job_limit_s = 7 * 24 * 3600;
  std::string secret_file;
};
WorkerFlags TakeWorkerFlags(NodeArgs& args);

// --max_message_mb (default 512): the largest message this node accepts from the network, refused from its
// header before anything is allocated (actors/basp_guard.h). Both roles take it.
void TakeMessageLimit(NodeArgs& args);

// --secret_file=FILE, else $GCL_NODE_SECRET (actors/node_auth.h); throws saying how to give one.
NodeSecret TakeNodeSecret(NodeArgs& args);

// Loads the secret (WorkerFlags::secret_file, else $GCL_NODE_SECRET), publishes a worker for `registry` and serves
// until the process is killed. Prints "port <N>" on stdout once listening, so that a script (or a test) that
// passed --port=0 learns the port. Throws when there is no secret or publishing fails.
[[noreturn]] void ServeJobs(const WorkerFlags& flags, JobRegistry registry);

// The "cluster" job kind (ClusterJob payload in, PseudoLabels out; actors/gcl_backends.h RunClusterJob).
void AddClusterJob(int threads, JobRegistry* registry);

// --workers=h:p,h:p, --max_attempts, --job_timeout_s, resolved (defaults, checks) with ResolveClusterConfig.
proto::ClusterConfig TakeClusterConfig(NodeArgs& args);

// Runs `jobs` on the workers of `config` from a fresh actor system with the middleman loaded. Throws naming the
// job when one is larger than the message limit (TakeMessageLimit): the workers would refuse it.
proto::JobReport RunJobsOnNodes(const proto::ClusterConfig& config, const std::vector<proto::JobSpec>& jobs,
                                const NodeSecret& secret);

// The "cluster" coordinator: --features=a.npy,b.npy [--k1 --k2 --rho --min_samples --out_dir]. Clusters each
// file on a worker, writes <out_dir>/<stem>.labels.txt, prints one line per job; returns the exit status (1 when
// a job failed or was lost). Two files with the same stem are refused before any work (their labels would land
// in one file).
int RunClusterCoordinator(NodeArgs& args, const proto::ClusterConfig& config, const NodeSecret& secret);

// Usage lines of the roles above, for the mains' --help.
inline constexpr char kWorkerUsage[] =
    "--role=worker --port=4242 [--bind=127.0.0.1] [--threads=0] [--job_limit_s=604800]\n"
    "            [--secret_file=FILE] [--max_message_mb=512]";
inline constexpr char kClusterCoordinatorUsage[] =
    "--role=coordinator --workers=HOST:PORT,... --features=A.npy,B.npy [--k1=30] [--k2=6]\n"
    "            [--rho=0.0016] [--min_samples=4] [--max_attempts=2] [--job_timeout_s=3600] [--out_dir=.]\n"
    "            [--secret_file=FILE] [--max_message_mb=512]\n"
    "every node of a job needs the same secret: --secret_file=FILE (chmod 600) or $GCL_NODE_SECRET, >= 16 bytes";

}  // namespace gcl::actors

#endif  // GCL_ACTORS_NODE_CLI_H_

// Distribution over CAF's middleman: worker nodes run jobs (a dataset to train on, a bank to cluster) that a
// coordinator node hands out, and the coordinator node gathers every result into one JobReport.
//
// Worker node:  PublishWorker(system, registry, port, "127.0.0.1", options) publishes a detached worker actor that
//               answers (job_atom, JobSpecMsg) with a JobResultMsg; `registry` maps JobSpec.kind to the function
//               that runs it (payload bytes in, payload bytes out).
// Coordinator:  RunJobs(system, cluster_config, jobs, secret) connects to every "host:port" worker, gives each idle
//               worker the next job, and returns the JobReport.
// Handshake:    before each job the coordinator asks the worker for a nonce (hello_atom -> 32 random bytes, each
//               usable once) and sends the job with HMAC-SHA256(secret, nonce + job) (actors/node_auth.h); the
//               worker runs nothing whose code does not verify (gcl_errc::unauthorized) and signs its result over
//               the coordinator's own nonce, which the coordinator checks in turn. A worker that refuses the
//               coordinator's code or answers with a bad one is dropped like a dead one.
// Watchdog:     a job that runs longer than the worker's WorkerOptions::job_limit_s is answered as failed, and the
//               worker process then ends (a job cannot be stopped on its thread any other way). A worker that disappears (its process dies, its
//               connection drops, its job times out) is detected, dropped, and its job re-queued on another worker
//               until ClusterConfig.max_attempts tries were made; then the job is reported lost. A job whose
//               function throws fails on its worker (JobResult.ok false with the cause) and is not retried: the
//               same input would fail again.
//
//   JobRegistry registry{{"cluster", [](const std::string& bytes) { return ClusterJob(bytes); }}};
//   uint16_t port = PublishWorker(system, registry, 0, "127.0.0.1");   // 0: any free port
//   proto::JobReport report = RunJobs(system, ResolveClusterConfig(config), jobs);
#ifndef GCL_ACTORS_DISTRIBUTED_H_
#define GCL_ACTORS_DISTRIBUTED_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "actors/node_auth.h"
#include "proto/actor_protocol.pb.h"
#include "proto/run_config.pb.h"

namespace gcl::actors {

// Runs one job: its JobSpec.payload in, the result payload out; throws std::runtime_error when it fails.
using JobFn = std::function<std::string(const std::string& payload)>;
using JobRegistry = std::map<std::string, JobFn>;

struct WorkerOptions {
  NodeSecret secret;
  // The longest a job may run on this worker (the watchdog); <= 0: no limit.
  double job_limit_s = 7 * 24 * 3600;
};

// Spawns a detached worker that runs the registered function of each authenticated job's kind (unknown kinds and
// throwing functions give ok == false with the cause; a malformed JobSpec is answered with gcl_errc::protocol, an
// unauthenticated one with gcl_errc::unauthorized) and publishes it on `port` at `bind_address`; returns the port
// (useful with 0). Throws std::runtime_error when publishing fails. The system must have loaded
// caf::io::middleman.
uint16_t PublishWorker(caf::actor_system& system, JobRegistry registry, uint16_t port,
                       const std::string& bind_address, WorkerOptions options);

// Hands `jobs` to the workers of `config` (resolved with ResolveClusterConfig) and waits for the report.
// Workers that cannot be reached at the start count as lost; with none reachable every job is lost. Job ids
// must be unique (a repeated id is refused: its results could not be told apart).
proto::JobReport RunJobs(caf::actor_system& system, const proto::ClusterConfig& config,
                         const std::vector<proto::JobSpec>& jobs, const NodeSecret& secret);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_DISTRIBUTED_H_

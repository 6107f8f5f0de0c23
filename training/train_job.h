// The "train" job kind of worker nodes: one whole training run (gcl::training::RunTraining) per job, so that a
// coordinator node spreads a multi-dataset job over machines and gathers one report (docs/ARCHITECTURE.md,
// "Distribution").
//
// Coordinator side:
//   std::vector<proto::JobSpec> jobs = {MakeTrainJob({"seed1", "configs/tiny.pbtxt", {"data.synthetic_seed=1"}}, cwd),
//                                       MakeTrainJob({"seed2", "configs/tiny.pbtxt", {"data.synthetic_seed=2"}}, cwd)};
//   proto::JobReport report = actors::RunJobsOnNodes(cluster, jobs);
//   proto::TrainJobsReport gathered = GatherTrainReport(cluster, jobs, report);
//   WriteTrainReport("runs/distributed", gathered);   // report.json + report.md
// Worker side:
//   registry["train"] = [](const std::string& payload) { return RunTrainJob(payload, "/scratch/gcl", 0); };
//
// Not for a single run on one machine: `//:train` does that without the middleman.
#ifndef GCL_TRAINING_TRAIN_JOB_H_
#define GCL_TRAINING_TRAIN_JOB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/actor_protocol.pb.h"
#include "proto/run_config.pb.h"
#include "proto/train_config.pb.h"
#include "proto/train_job.pb.h"

namespace gcl::training {

inline constexpr uint32_t kTrainJobVersion = 1;
inline constexpr char kTrainJobKind[] = "train";

// A train job as the command line or a job file (proto TrainJobEntry) names it.
struct TrainJobRequest {
  std::string name;                // job id and run.name
  std::string config;              // preset name or TrainConfig file
  std::vector<std::string> sets;   // "field.path=value" overrides, in order
  bool overwrite = false;          // replace a run folder of that name on the worker (node --overwrite)
};

// Loads the request's config, sets run.name = name, applies the overrides, checks that it resolves (so a bad
// config fails on the coordinator before any worker is busy) and wraps the unresolved config in a "train" JobSpec.
// Throws std::runtime_error naming the job and the problem.
proto::JobSpec MakeTrainJob(const TrainJobRequest& request, const std::string& working_dir);

// Reads a text-format TrainJobFile; entries without a config get `default_config`. Throws naming the file and the
// entry for a parse error, an entry without a name or a repeated name.
std::vector<TrainJobRequest> LoadTrainJobFile(const std::string& path, const std::string& default_config);

// What a worker lets a train job touch: it writes only inside `work_dir` (the run folder, a synthetic-world
// cache it is given) and reads only inside `work_dir` or one of `data_roots` (node --data_roots).
struct TrainWorkerLimits {
  std::string work_dir;
  std::vector<std::string> data_roots;
};

// The worker's own check of a job's config (`job_config` as received, `resolved` after ResolveTrainConfig), so a
// coordinator (or anyone holding the secret) cannot reach past the worker's folders: run.name must be one plain
// path component; the run folder <work_dir>/<run.output_dir>/<run.name> must lie inside work_dir; data.root,
// data.mesh_dir, source.root, source.mesh_dir, model.identity_init and a given data.cache_dir / source.cache_dir
// must lie inside work_dir or a data root. Symbolic links are followed before the check. Throws
// std::runtime_error naming the field, the path and the allowed folders.
void CheckTrainJobOnWorker(const proto::TrainConfig& job_config, const proto::TrainConfig& resolved,
                           const TrainWorkerLimits& limits);

// Runs one "train" job on a worker: parses the TrainJob payload, resolves its config, checks it
// (CheckTrainJobOnWorker), trains into <work_dir>/<run.output_dir>/<run.name> (a fresh run; a used folder only
// with TrainJob.overwrite) with `threads` LibTorch threads (0: every CPU of the process or
// $GCL_NUM_THREADS, as //:train) and returns the serialized TrainJobResult. Throws std::runtime_error (which the worker returns as
// JobResult.ok = false with the cause) for a payload that does not parse, a bad or refused config, a used run
// folder or missing data. A run that starts but stops early is a result (report.completed false), not an
// exception.
std::string RunTrainJob(const std::string& payload, const TrainWorkerLimits& limits, int threads);

// The data of a config in one line, e.g. "synthetic (tiny world, seed 2)" or "market1501 at /data/market1501".
std::string DescribeData(const proto::TrainConfig& config);

// The final table of a run from its history: baseline = the last evaluation before stage 3, GCL = the last and
// the best (by mAP) stage-3 evaluations (the rules of //:train's report.md). Missing evaluations stay unset.
void FillFinalNumbers(const proto::RunReport& report, proto::TrainJobRow* row);

// One row per job of `jobs` (in order) from the coordinator's JobReport.
proto::TrainJobsReport GatherTrainReport(const proto::ClusterConfig& cluster, const std::vector<proto::JobSpec>& jobs,
                                         const proto::JobReport& report);

// report.md: a table with a row per job (baseline and GCL mAP / rank-1 in %, worker, tries, status, time), the
// errors and the lost workers.
std::string TrainReportMarkdown(const proto::TrainJobsReport& report);
// report.json: the TrainJobsReport message as JSON (field names as in proto/train_job.proto, zeros included).
std::string TrainReportJson(const proto::TrainJobsReport& report);
// Writes <out_dir>/report.json and report.md (creating out_dir); throws naming a file it cannot write.
void WriteTrainReport(const std::string& out_dir, const proto::TrainJobsReport& report);

}  // namespace gcl::training

#endif  // GCL_TRAINING_TRAIN_JOB_H_

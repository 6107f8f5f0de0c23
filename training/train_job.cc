#include "training/train_job.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <stdexcept>

#include "actors/protocol.h"
#include "common/atomic_file.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "training/train_config.h"
#include "training/train_run.h"

namespace gcl::training {
namespace fs = std::filesystem;

proto::JobSpec MakeTrainJob(const TrainJobRequest& request, const std::string& working_dir) {
  const std::string where = "job '" + request.name + "': ";
  if (request.name.empty()) throw std::runtime_error("a train job without a name");
  // The name becomes a folder on the worker: keep it to one plain path component.
  if (request.name.find_first_of("/\\") != std::string::npos || request.name == "." || request.name == "..") {
    throw std::runtime_error(where + "the name must not contain '/' (it names the run folder)");
  }
  proto::TrainJob job;
  job.set_version(kTrainJobVersion);
  try {
    proto::TrainConfig config = LoadTrainConfig(FindTrainConfig(request.config, working_dir));
    ApplyOverride("run.name=" + request.name, &config);
    for (const std::string& set : request.sets) ApplyOverride(set, &config);
    ResolveTrainConfig(config);  // only to fail here, on the coordinator; the worker resolves its own copy
    *job.mutable_config() = std::move(config);
  } catch (const std::exception& e) {
    throw std::runtime_error(where + e.what());
  }
  proto::JobSpec spec;
  spec.set_version(actors::kActorProtocolVersion);
  job.set_overwrite(request.overwrite);
  spec.set_job_id(request.name);
  spec.set_kind(kTrainJobKind);
  spec.set_attempt(1);
  spec.set_payload(job.SerializeAsString());
  return spec;
}

std::vector<TrainJobRequest> LoadTrainJobFile(const std::string& path, const std::string& default_config) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read job file " + path);
  std::stringstream text;
  text << in.rdbuf();
  proto::TrainJobFile file;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &file)) {
    throw std::runtime_error("job file " + path + " is not a text-format TrainJobFile (proto/train_job.proto)");
  }
  if (file.job_size() == 0) throw std::runtime_error("job file " + path + " has no job");
  std::vector<TrainJobRequest> requests;
  std::set<std::string> names;
  for (int i = 0; i < file.job_size(); ++i) {
    const proto::TrainJobEntry& entry = file.job(i);
    const std::string where = "job file " + path + ", job " + std::to_string(i + 1) + ": ";
    if (entry.name().empty()) throw std::runtime_error(where + "no name");
    if (!names.insert(entry.name()).second) throw std::runtime_error(where + "name '" + entry.name() + "' repeats");
    requests.push_back({entry.name(), entry.config().empty() ? default_config : entry.config(),
                        {entry.set().begin(), entry.set().end()}});
  }
  return requests;
}

namespace {

// `path` made absolute against `base`, with every symbolic link of its existing part followed.
fs::path RealPath(const std::string& path, const std::string& base) {
  std::error_code error;
  fs::path real = fs::weakly_canonical(fs::path(ResolveAgainst(path, base)), error);
  if (error) real = fs::absolute(ResolveAgainst(path, base)).lexically_normal();
  return real;
}

bool Inside(const fs::path& path, const fs::path& root) {
  std::vector<std::string> p, r;
  for (const fs::path& part : path) if (!part.empty()) p.push_back(part.string());
  for (const fs::path& part : root) if (!part.empty()) r.push_back(part.string());
  return r.size() <= p.size() && std::equal(r.begin(), r.end(), p.begin());
}

}  // namespace

void CheckTrainJobOnWorker(const proto::TrainConfig& job_config, const proto::TrainConfig& resolved,
                           const TrainWorkerLimits& limits) {
  const std::string& name = resolved.run().name();
  if (name.empty() || name == "." || name == ".." || name.find_first_of(std::string("/\\\0", 3)) != std::string::npos ||
      name.size() > 200) {
    throw std::runtime_error("run.name '" + name +
                             "' refused by this worker: a run name is one plain folder name (no '/', not '.' or "
                             "'..', at most 200 characters)");
  }
  const fs::path work = RealPath(limits.work_dir, "/");
  std::vector<fs::path> readable = {work};
  std::string allowed = work.string();
  for (const std::string& root : limits.data_roots) {
    readable.push_back(RealPath(root, limits.work_dir));
    allowed += ", " + readable.back().string();
  }
  const fs::path run_dir = RealPath((fs::path(ResolveAgainst(resolved.run().output_dir(), limits.work_dir)) / name).string(), "/");
  if (!Inside(run_dir, work)) {
    throw std::runtime_error("run.output_dir '" + resolved.run().output_dir() + "' refused by this worker: the run folder " +
                             run_dir.string() + " is outside its --work_dir " + work.string());
  }
  auto check_input = [&](const std::string& field, const std::string& value) {
    if (value.empty()) return;
    const fs::path real = RealPath(value, limits.work_dir);
    for (const fs::path& root : readable) {
      if (Inside(real, root)) return;
    }
    throw std::runtime_error(field + " '" + value + "' refused by this worker: " + real.string() +
                             " is outside the folders it serves (" + allowed + "; node --work_dir, --data_roots)");
  };
  check_input("data.root", resolved.data().root());
  check_input("data.mesh_dir", resolved.data().mesh_dir());
  check_input("data.cache_dir", job_config.data().cache_dir());  // the worker's own default when not given
  check_input("source.root", resolved.source().root());
  check_input("source.mesh_dir", resolved.source().mesh_dir());
  check_input("source.cache_dir", job_config.source().cache_dir());
  check_input("model.identity_init", resolved.model().identity_init());
}

std::string RunTrainJob(const std::string& payload, const TrainWorkerLimits& limits, int threads) {
  proto::TrainJob job;
  if (!job.ParseFromString(payload)) throw std::runtime_error("train job: the payload is not a TrainJob");
  if (job.version() != kTrainJobVersion) {
    throw std::runtime_error("train job: TrainJob.version " + std::to_string(job.version()) + ", this worker speaks " +
                             std::to_string(kTrainJobVersion));
  }
  const proto::TrainConfig config = ResolveTrainConfig(job.config());
  CheckTrainJobOnWorker(job.config(), config, limits);
  // As //:train: 0 is every CPU (or $GCL_NUM_THREADS).
  ConfigureThreads(threads);
  std::fprintf(stderr, "train job %s: %s\n", config.run().name().c_str(), DescribeData(config).c_str());
  const TrainResult run =
      RunTraining(config, limits.work_dir, /*resume=*/false, /*interactive=*/false, job.overwrite());
  proto::TrainJobResult result;
  result.set_version(kTrainJobVersion);
  result.set_run_dir(fs::absolute(run.run_dir).lexically_normal().string());
  *result.mutable_report() = run.report;
  return result.SerializeAsString();
}

std::string DescribeData(const proto::TrainConfig& config) {
  const proto::DataConfig& data = config.data();
  if (data.dataset() == "synthetic") {
    return "synthetic (" + data.synthetic_preset() + " world, seed " + std::to_string(data.synthetic_seed()) + ")";
  }
  return data.dataset() + " at " + data.root();
}

namespace {

proto::TrainJobMetrics Metrics(const proto::EpochSummary& s) {
  proto::TrainJobMetrics m;
  m.set_epoch(s.epoch());
  m.set_map(s.eval().mean_ap());
  m.set_rank1(s.eval().cmc_size() > 0 ? s.eval().cmc(0) : std::nan(""));
  return m;
}

// A fraction as a percentage with one decimal; "n/a" when the run never evaluated that model.
std::string Percent(bool has, double fraction) {
  if (!has || !std::isfinite(fraction)) return "n/a";
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << 100 * fraction;
  return s.str();
}

// Markdown table cells must not break the row.
std::string Cell(std::string text) {
  std::replace(text.begin(), text.end(), '|', '/');
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

void FillFinalNumbers(const proto::RunReport& report, proto::TrainJobRow* row) {
  for (const proto::EpochSummary& s : report.history()) {
    if (!s.has_eval()) continue;
    if (s.phase() != proto::PHASE_JOINT) {
      *row->mutable_baseline() = Metrics(s);  // before stage 3: E_id as stage 1 left it (stage 2 freezes it)
      continue;
    }
    *row->mutable_gcl_last() = Metrics(s);
    if (!row->has_gcl_best() || s.eval().mean_ap() > row->gcl_best().map()) *row->mutable_gcl_best() = Metrics(s);
  }
}

proto::TrainJobsReport GatherTrainReport(const proto::ClusterConfig& cluster, const std::vector<proto::JobSpec>& jobs,
                                         const proto::JobReport& report) {
  proto::TrainJobsReport out;
  out.set_version(kTrainJobVersion);
  out.mutable_workers()->CopyFrom(cluster.workers());
  out.mutable_lost_workers()->CopyFrom(report.lost_workers());
  for (const proto::JobSpec& spec : jobs) {
    proto::TrainJobRow* row = out.add_rows();
    row->set_job(spec.job_id());
    proto::TrainJob job;
    if (job.ParseFromString(spec.payload())) row->set_dataset(DescribeData(ResolveTrainConfig(job.config())));
    const auto result = std::find_if(report.results().begin(), report.results().end(),
                                     [&](const proto::JobResult& r) { return r.job_id() == spec.job_id(); });
    if (result == report.results().end()) {
      row->set_status("lost");
      const auto tries = report.lost_job_tries().find(spec.job_id());
      row->set_attempts(tries == report.lost_job_tries().end() ? 0 : tries->second);
      const auto cause = report.lost_job_causes().find(spec.job_id());
      row->set_error(cause == report.lost_job_causes().end()
                         ? std::string("every worker it was given disappeared")
                         : "every worker it was given was lost; the last: " + cause->second);
      continue;
    }
    row->set_worker(result->worker());
    row->set_attempts(result->attempt());
    row->set_seconds(result->seconds());
    proto::TrainJobResult train;
    if (!result->ok()) {
      row->set_status("failed");
      row->set_error(result->error());
    } else if (!train.ParseFromString(result->payload()) || train.version() != kTrainJobVersion) {
      row->set_status("failed");
      row->set_error("the worker's result is not a TrainJobResult of version " + std::to_string(kTrainJobVersion));
    } else {
      row->set_status(train.report().completed() ? "done" : "stopped");
      row->set_error(train.report().error());
      row->set_run_dir(train.run_dir());
      row->set_global_step(train.report().global_step());
      FillFinalNumbers(train.report(), row);
    }
  }
  return out;
}

std::string TrainReportMarkdown(const proto::TrainJobsReport& report) {
  using Row = proto::TrainJobRow;
  std::string workers;
  for (const std::string& name : report.workers()) workers += (workers.empty() ? "" : ", ") + name;
  std::ostringstream md;
  md << "# Distributed training\n\n" << report.rows_size() << " jobs on " << report.workers_size() << " workers ("
     << Cell(workers)
     << "), " << std::fixed << std::setprecision(1) << report.seconds()
     << " s wall. mAP and rank-1 in % on each dataset's test split: the warm-up baseline (E_id after stage 1) and "
        "GCL after stage 3 (last epoch).\n\n";
  md << "| job | dataset | baseline mAP | baseline rank-1 | GCL mAP | GCL rank-1 | worker | tries | status | time |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Row& row : report.rows()) {
    std::ostringstream time;
    time << std::fixed << std::setprecision(1) << row.seconds() << " s";
    md << "| " << Cell(row.job()) << " | " << Cell(row.dataset()) << " | "
       << Percent(row.has_baseline(), row.baseline().map()) << " | "
       << Percent(row.has_baseline(), row.baseline().rank1()) << " | "
       << Percent(row.has_gcl_last(), row.gcl_last().map()) << " | "
       << Percent(row.has_gcl_last(), row.gcl_last().rank1()) << " | " << (row.worker().empty() ? "-" : row.worker())
       << " | " << row.attempts() << " | " << row.status() << " | " << (row.status() == "lost" ? "-" : time.str())
       << " |\n";
  }
  bool any_error = false;
  for (const Row& row : report.rows()) {
    if (row.error().empty()) continue;
    if (!any_error) md << "\nErrors:\n\n";
    any_error = true;
    md << "- " << row.job() << " (" << row.status() << "): " << row.error() << "\n";
  }
  bool any_dir = false;
  for (const Row& row : report.rows()) {
    if (row.run_dir().empty()) continue;
    if (!any_dir) md << "\nRun folders (on the worker's machine; report.md there has the full table):\n\n";
    any_dir = true;
    md << "- " << row.job() << ": `" << row.run_dir() << "`\n";
  }
  if (report.lost_workers_size() > 0) {
    md << "\nWorkers lost:\n\n";
    for (const std::string& w : report.lost_workers()) md << "- " << w << "\n";
  }
  return md.str();
}

std::string TrainReportJson(const proto::TrainJobsReport& report) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(report, &json, options);
  if (!status.ok()) throw std::runtime_error("report.json: " + status.ToString());
  return json;
}

void WriteTrainReport(const std::string& out_dir, const proto::TrainJobsReport& report) {
  fs::create_directories(out_dir);
  WriteFileAtomically((fs::path(out_dir) / "report.json").string(), TrainReportJson(report));
  WriteFileAtomically((fs::path(out_dir) / "report.md").string(), TrainReportMarkdown(report));
}

}  // namespace gcl::training

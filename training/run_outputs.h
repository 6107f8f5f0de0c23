// What a training run leaves in runs/<name>/ besides its checkpoints (docs/training.md lists the files):
// a progress bar on stderr, metrics.jsonl (one line per epoch), PNG plots of mAP / rank-1 / clusters over epochs
// (drawn with OpenCV), report.md with the final table and summary.json with the same numbers.
//
// The RunRecorder collects what the backends see while the actors run (steps for the progress bar, evaluation
// metrics with mINP, clustering statistics of the warm-up); the writers combine it with the coordinator's
// RunReport (per-epoch losses, timings, clusters, mAP/CMC, resumed history included) once the run ends.
//
//   auto recorder = std::make_shared<RunRecorder>(run_dir, /*estimated_steps=*/900, /*progress_interval_s=*/0.5);
//   recorder->Step(proto::PHASE_JOINT, /*epoch=*/0, /*batch=*/5, /*batches=*/120);   // from the trainer backend
//   WriteRunOutputs(run_dir, config, report, *recorder);                                // after the run
#ifndef GCL_TRAINING_RUN_OUTPUTS_H_
#define GCL_TRAINING_RUN_OUTPUTS_H_

#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "evaluation/reid_metrics.h"
#include "proto/actor_protocol.pb.h"
#include "proto/train_config.pb.h"

namespace gcl::training {

struct EvalRecord {
  proto::Phase phase = proto::PHASE_UNSPECIFIED;
  int64_t epoch = 0;
  double map = 0;
  double minp = 0;
  std::vector<double> cmc;  // cmc[k] = rank-(k+1)
};

// The report's row for ReID metrics: mAP, mINP and CMC ranks 1-10 (every evaluation a run reports goes through it).
EvalRecord MakeEvalRecord(const evaluation::ReidMetrics& metrics, proto::Phase phase = proto::PHASE_UNSPECIFIED,
                          int64_t epoch = 0);

struct ClusterRecord {
  proto::Phase phase = proto::PHASE_UNSPECIFIED;
  int64_t epoch = 0;  // the epoch the labels are for
  int64_t clusters = 0;
  int64_t outliers = 0;
  double eps = 0;
  double seconds = 0;
  // Pairwise precision / recall of the pass against the true train identities (clustering/label_quality.h),
  // NaN when they are unknown. A diagnosis: training never sees the true identities.
  double label_precision = std::nan("");
  double label_recall = std::nan("");
};

// A model or a non-learned baseline evaluated on some split besides the run's own evaluations: the colour
// histograms on the test split, and every model on the real-footage split (docs/results.md).
struct ReferenceRecord {
  std::string split;  // "test", "real footage", ...
  std::string model;  // e.g. "colour histogram hsv16x4x4_half", "E_id after stage 1"
  bool learned = false;
  EvalRecord metrics;
};

// Thread-safe: the trainer, clusterer and evaluator actors call it from their own threads.
class RunRecorder {
 public:
  RunRecorder(std::string run_dir, int64_t estimated_steps, double progress_interval_s, bool interactive);

  // A training step finished: redraws the progress bar (rate, ETA) at most every progress_interval_s.
  void Step(proto::Phase phase, int64_t epoch, int64_t batch, int64_t batches_in_epoch);
  // Ends the bar's line (before other log output and at the end of the run).
  void FinishLine();
  void AddEval(const EvalRecord& record);
  void AddClusters(const ClusterRecord& record);
  void AddReference(const ReferenceRecord& record);
  // A sentence for report.md's notes (e.g. why a check is missing).
  void AddNote(const std::string& note);
  std::vector<std::string> Notes() const;
  std::vector<ReferenceRecord> References() const;
  std::optional<EvalRecord> FindEval(proto::Phase phase, int64_t epoch) const;
  std::vector<ClusterRecord> Clusters() const;
  std::vector<EvalRecord> Evals() const;
  const std::string& run_dir() const { return run_dir_; }
  // Steps already done when the run resumed from a checkpoint (so the ETA counts only what is left).
  void SetStepsDone(int64_t steps);
  // Stage 3's epoch count: its epochs train only the clustered samples, so the bar re-plans the rest of the run
  // from each joint epoch's real size as it starts (the initial estimate counts every sample).
  void SetJointEpochs(int64_t epochs);

 private:
  std::string run_dir_;
  int64_t estimated_steps_;
  double interval_;
  bool interactive_;
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t steps_ = 0;
  int64_t steps_at_start_ = 0;
  int64_t joint_epochs_ = 0;
  // The rate of the phase in progress predicts the ETA (a GAN step costs ~10x a warm-up step).
  proto::Phase phase_ = proto::PHASE_UNSPECIFIED;
  std::chrono::steady_clock::time_point phase_start_;
  int64_t phase_start_steps_ = 0;
  bool line_open_ = false;
  std::vector<EvalRecord> evals_;
  std::vector<ClusterRecord> clusters_;
  std::vector<ReferenceRecord> references_;
  std::vector<std::string> notes_;
};

// "warmup", "gan_warmup", "joint".
std::string PhaseName(proto::Phase phase);

// One JSON object per epoch of `report.history()` (phase, epoch, steps, mean losses, clusters, outliers, eval:
// mAP, CMC rank-1/5/10, mINP, timings), in order.
std::string MetricsJsonl(const proto::RunReport& report, const RunRecorder& recorder);

// The final table's numbers: the warm-up baseline (E_id before stage 3, i.e. after stage 1: stage 2 freezes it)
// and GCL after stage 3 (last epoch, and the best epoch by test mAP as the reference selects, §7).
struct FinalTable {
  std::optional<EvalRecord> baseline, last, best;
};
FinalTable MakeFinalTable(const proto::RunReport& report, const RunRecorder& recorder);

// Writes metrics.jsonl, plots/{map,rank1,clusters,label_quality}.png, report.md and summary.json into `run_dir`.
// report.md holds the final table, the reference rows (colour histograms, the real-footage split) with GCL's
// ratio to the strongest histogram, and the pseudo-label diagnosis of every clustering pass. Throws
// std::runtime_error naming the file on a write error.
void WriteRunOutputs(const std::string& run_dir, const proto::TrainConfig& config, const proto::RunReport& report,
                     const RunRecorder& recorder, double wall_seconds);

// A line plot of one or more series (x = epoch index along the run) as an 8-bit BGR image.
struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y)
};
void WritePlot(const std::string& path, const std::string& title, const std::string& x_label,
               const std::vector<PlotSeries>& series);

}  // namespace gcl::training

#endif  // GCL_TRAINING_RUN_OUTPUTS_H_

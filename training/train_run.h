// One training run end to end, as `//:train` runs it: the run folder, the data, the actor runtime's job
// (actors/coordinator.h) over the GCL backends, and the outputs (run_outputs.h) when it ends.
//
//   proto::TrainConfig config = ResolveTrainConfig(LoadTrainConfig("configs/quick.pbtxt"));
//   TrainResult result = RunTraining(config, /*working_dir=*/".", /*resume=*/false, /*interactive=*/true);
//   // result.run_dir == "./runs/quick": report.md, summary.json, metrics.jsonl, plots/, views/, export/, ...
#ifndef GCL_TRAINING_TRAIN_RUN_H_
#define GCL_TRAINING_TRAIN_RUN_H_

#include <string>

#include "proto/actor_protocol.pb.h"
#include "proto/train_config.pb.h"

namespace gcl::training {

struct TrainResult {
  std::string run_dir;
  proto::RunReport report;
};

// `config` must be resolved. Relative paths (run.output_dir, data.root, ...) resolve against `working_dir`.
// The run holds <run_dir>/.lock while it runs (run_folder.h); a second process on the same folder is refused.
// A fresh run refuses a folder that already holds a run unless `overwrite` (which empties it first), and writes
// <run_dir>/config.pbtxt before training; when it fails before its first epoch starts (missing data, ...) it
// removes the folder it created. With `resume` the run continues from the newest valid checkpoint in
// <run_dir>/checkpoints (older ones when the newest is corrupt, said on stderr and in the report); no checkpoint,
// or a checkpoint of other data (DatasetFingerprint), is an error, and nothing in the folder is rewritten until
// the restore has succeeded. `interactive` draws the progress bar in place (a terminal); otherwise one line per
// epoch. Throws std::runtime_error for all of these refusals, bad data or an unwritable folder; a run that stops
// (a failing actor) returns its report with completed = false and the cause in report.error().
TrainResult RunTraining(const proto::TrainConfig& config, const std::string& working_dir, bool resume, bool interactive,
                        bool overwrite = false);

}  // namespace gcl::training

#endif  // GCL_TRAINING_TRAIN_RUN_H_

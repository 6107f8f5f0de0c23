// One training run end to end, as `//:train` runs it: the run folder, the data, the actor runtime's job
// (actors/coordinator.h) over the GCL backends, and the outputs (run_outputs.h) when it ends.
//
//   proto::TrainConfig config = ResolveTrainConfig(LoadTrainConfig("configs/quick.pbtxt"));
//   TrainResult result = RunTraining(config, /*working_dir=*/".", /*resume=*/false, /*interactive=*/true);
//   // result.run_dir == "./runs/quick": report.md, summary.json, metrics.jsonl, plots/, views/, export/, ...
#ifndef GCL_TOOLS_TRAIN_TRAIN_RUN_H_
#define GCL_TOOLS_TRAIN_TRAIN_RUN_H_

#include <string>

#include "proto/actor_protocol.pb.h"
#include "proto/train_config.pb.h"

namespace gcl::train {

struct TrainResult {
  std::string run_dir;
  proto::RunReport report;
};

// `config` must be resolved. Relative paths (run.output_dir, data.root, ...) resolve against `working_dir`.
// With `resume` the run continues from the newest checkpoint in <run_dir>/checkpoints (a fresh start when there
// is none). `interactive` draws the progress bar in place (a terminal); otherwise one line per epoch. Writes
// <run_dir>/config.pbtxt before training. Throws std::runtime_error for bad data or an unwritable folder; a run
// that stops (a failing actor) returns its report with completed = false.
TrainResult RunTraining(const proto::TrainConfig& config, const std::string& working_dir, bool resume, bool interactive);

}  // namespace gcl::train

#endif  // GCL_TOOLS_TRAIN_TRAIN_RUN_H_

// Evaluations beside a run's own: what a learned model has to beat, and a check on real data.
//
//   - every colour-histogram baseline (evaluation/hist_matcher.h) on the run's test split, so report.md shows
//     GCL against the strongest non-learned descriptor on the same queries and gallery;
//   - a real-footage check (output.real_footage_video; docs/real_footage.md): the run's exported E_id models
//     (after stage 1, after stage 3) and the histograms on a re-ID split cut from real street video, because a
//     synthetic world can reward what real data does not.
//
//   gcl::training::AddTestSplitHistograms(*dataset, recorder.get());   // after the run, before WriteRunOutputs
//   gcl::training::AddRealFootageCheck(config, run_dir, working_dir, recorder.get());
//
// The results go to the RunRecorder as ReferenceRecords; nothing here trains or chooses anything.
#ifndef GCL_TRAINING_REFERENCE_EVALS_H_
#define GCL_TRAINING_REFERENCE_EVALS_H_

#include <string>

#include "data/datasets/reid_dataset.h"
#include "proto/train_config.pb.h"
#include "training/run_outputs.h"

namespace gcl::training {

// Adds one "test" ReferenceRecord per named histogram descriptor, evaluated on `dataset`'s query and gallery
// with the Market protocol. Throws std::runtime_error naming an unreadable image.
void AddTestSplitHistograms(const data::ReidDataset& dataset, RunRecorder* recorder);

// When output.real_footage_video is set: makes (or reuses) the video's split in the synthetic world's cache folder
// (data.cache_dir, else DefaultCacheDir()), then adds "real footage" ReferenceRecords for every histogram
// descriptor and for <run_dir>/export/eid_stage1.safetensors ("E_id after stage 1") and eid_final.safetensors
// ("GCL (last epoch)") where they exist, extracted at the run's input size on run.device. Throws
// std::runtime_error naming the video or file that is missing or unreadable.
void AddRealFootageCheck(const proto::TrainConfig& config, const std::string& run_dir, const std::string& working_dir,
                         RunRecorder* recorder);

}  // namespace gcl::training

#endif  // GCL_TRAINING_REFERENCE_EVALS_H_

// Evaluations beside a run's own: what a learned model has to beat, and a check on real data.
//
//   - every colour-histogram baseline (data/synth/hist_matcher.h) on the run's test split, so report.md shows
//     GCL against the strongest non-learned descriptor on the same queries and gallery;
//
//   gcl::train::AddTestSplitHistograms(*dataset, recorder.get());   // after the run, before WriteRunOutputs
//
// The results go to the RunRecorder as ReferenceRecords; nothing here trains or chooses anything.
#ifndef GCL_TOOLS_TRAIN_REFERENCE_EVALS_H_
#define GCL_TOOLS_TRAIN_REFERENCE_EVALS_H_

#include "data/datasets/reid_dataset.h"
#include "tools/train/run_outputs.h"

namespace gcl::train {

// Adds one "test" ReferenceRecord per named histogram descriptor, evaluated on `dataset`'s query and gallery
// with the Market protocol. Throws std::runtime_error naming an unreadable image.
void AddTestSplitHistograms(const data::ReidDataset& dataset, RunRecorder* recorder);

}  // namespace gcl::train

#endif  // GCL_TOOLS_TRAIN_REFERENCE_EVALS_H_

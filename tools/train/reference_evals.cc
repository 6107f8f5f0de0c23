#include "tools/train/reference_evals.h"

#include <string>
#include <vector>

#include "clustering/reid_metrics.h"
#include "data/synth/hist_matcher.h"

namespace gcl::train {
namespace {

void Split(const data::ReidSplit& split, std::vector<std::string>* paths, clustering::ReidLabels* labels) {
  for (const data::ImageRecord& r : split.records) {
    paths->push_back(r.path);
    labels->pids.push_back(r.pid);
    labels->camids.push_back(r.camid);
  }
}

EvalRecord ToEvalRecord(const clustering::ReidMetrics& m) {
  EvalRecord e;
  e.map = m.map;
  e.minp = m.minp;
  for (int k = 1; k <= 10; ++k) e.cmc.push_back(m.Rank(k));
  return e;
}

}  // namespace

void AddTestSplitHistograms(const data::ReidDataset& dataset, RunRecorder* recorder) {
  std::vector<std::string> query_paths, gallery_paths;
  clustering::ReidLabels query, gallery;
  Split(dataset.query, &query_paths, &query);
  Split(dataset.gallery, &gallery_paths, &gallery);
  for (const data::HistogramDescriptor& d : data::NamedHistogramDescriptors()) {
    ReferenceRecord r;
    r.split = "test";
    r.model = "colour histogram " + d.name;
    r.metrics = ToEvalRecord(data::EvaluateHistogramBaseline(query_paths, query, gallery_paths, gallery, d));
    recorder->AddReference(r);
  }
}

}  // namespace gcl::train

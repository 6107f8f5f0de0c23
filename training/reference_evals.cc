#include "training/reference_evals.h"

#include <filesystem>
#include <string>
#include <vector>

#include "evaluation/evaluation.h"
#include "evaluation/reid_metrics.h"
#include "common/device.h"
#include "common/progress_line.h"
#include "common/user_path.h"
#include "data/footage/video_split.h"
#include "evaluation/hist_matcher.h"
#include "models/identity_encoder_io.h"
#include "evaluation/feature_extraction.h"
#include "training/gcl_backends.h"

namespace gcl::training {
namespace {

// A test split as the matchers take it: image paths and labels of the query and the gallery.
struct SplitLists {
  std::vector<std::string> query_paths, gallery_paths;
  evaluation::ReidLabels query, gallery;
};

SplitLists ListsOf(const data::ReidDataset& dataset) {
  SplitLists lists;
  const auto add = [](const data::ReidSplit& split, std::vector<std::string>* paths, evaluation::ReidLabels* labels) {
    for (const data::ImageRecord& r : split.records) {
      paths->push_back(r.path);
      labels->pids.push_back(r.pid);
      labels->camids.push_back(r.camid);
    }
  };
  add(dataset.query, &lists.query_paths, &lists.query);
  add(dataset.gallery, &lists.gallery_paths, &lists.gallery);
  return lists;
}

void AddHistograms(const SplitLists& lists, const std::string& split, RunRecorder* recorder) {
  for (const evaluation::HistogramDescriptor& d : evaluation::NamedHistogramDescriptors()) {
    ReferenceRecord r;
    r.split = split;
    r.model = "colour histogram " + d.name;
    r.metrics = MakeEvalRecord(
        evaluation::EvaluateHistogramBaseline(lists.query_paths, lists.query, lists.gallery_paths, lists.gallery, d));
    recorder->AddReference(r);
  }
}

}  // namespace

void AddTestSplitHistograms(const data::ReidDataset& dataset, RunRecorder* recorder) {
  AddHistograms(ListsOf(dataset), "test", recorder);
}

void AddRealFootageCheck(const proto::TrainConfig& config, const std::string& run_dir, const std::string& working_dir,
                         RunRecorder* recorder) {
  const std::string& video = config.output().real_footage_video();
  if (video.empty()) return;
  const std::string cache =
      config.data().cache_dir().empty() ? DefaultCacheDir() : ResolveAgainst(config.data().cache_dir(), working_dir);
  std::filesystem::create_directories(cache);
  std::string folder;
  {
    // The first run cuts the split (HOG over every frame: a minute or two on 2 cores); later runs reuse it.
    ProgressLine bar("real-footage split from " + video, "frames");
    folder = data::EnsureVideoSplit(ResolveAgainst(video, working_dir), cache,
                                    [&bar](const std::string&, size_t done, size_t total) { bar.Update(done, total); });
  }
  const data::ReidDataset dataset = data::LoadMarket1501(folder);
  const std::string split = "real footage";
  const SplitLists lists = ListsOf(dataset);
  AddHistograms(lists, split, recorder);
  evaluation::ExtractOptions options;
  options.height = config.data().height();
  options.width = config.data().width();
  options.batch_size = config.data().eval_batch_size();
  const c10::Device device = PickDevice(config.run().device());
  for (const auto& [file, name] : {std::pair<std::string, std::string>{"eid_stage1.safetensors", "E_id after stage 1"},
                                   {"eid_final.safetensors", "GCL (last epoch)"}}) {
    const std::string path = run_dir + "/export/" + file;
    if (!std::filesystem::exists(path)) continue;
    models::IdentityEncoder net = models::LoadExportedIdentityEncoder(path);
    net->to(device);
    ReferenceRecord r;
    r.split = split;
    r.model = name;
    r.learned = true;
    r.metrics = MakeEvalRecord(evaluation::EvaluateFeatures(
        evaluation::ExtractFeatures(net, lists.query_paths, options, device),
        evaluation::ExtractFeatures(net, lists.gallery_paths, options, device), lists.query, lists.gallery));
    recorder->AddReference(r);
  }
}

}  // namespace gcl::training

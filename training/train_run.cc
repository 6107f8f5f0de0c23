#include "training/train_run.h"

#include <caf/all.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "actors/checkpointer.h"
#include "actors/coordinator.h"
#include "actors/protocol.h"
#include "common/atomic_file.h"
#include "common/device.h"
#include "common/user_path.h"
#include "training/gcl_backends.h"
#include "training/reference_evals.h"
#include "training/run_folder.h"
#include "training/run_outputs.h"
#include "training/train_config.h"

namespace gcl::training {

TrainResult RunTraining(const proto::TrainConfig& config, const std::string& working_dir, bool resume,
                        bool interactive, bool overwrite) {
  namespace fs = std::filesystem;
  const auto start = std::chrono::steady_clock::now();
  const proto::RunConfig& run = config.run();
  // The device is checked before anything is written, loaded or rendered: a run that asks for CUDA where this
  // LibTorch has none stops here, not when the trainer starts after minutes of data preparation.
  try {
    PickDevice(run.device());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("TrainConfig.run.device: ") + e.what());
  }
  const fs::path out = ResolveAgainst(run.output_dir(), working_dir);
  TrainResult result;
  result.run_dir = (out / run.name()).string();
  const std::string checkpoint_dir = result.run_dir + "/checkpoints";
  if (resume && overwrite) throw std::runtime_error("--resume and --overwrite contradict each other: choose one");
  if (resume) CheckResumableRunFolder(result.run_dir);  // before anything is created: a mistyped --name leaves no trace
  std::error_code ignored;
  const bool new_folder = !fs::exists(result.run_dir, ignored);
  const RunFolderLock lock(result.run_dir);  // until this function returns; the kernel drops it if the process dies
  // A fresh run that fails before it starts (a mistyped data.root, ...) removes the folder it created, so that
  // the corrected command is not refused for a "used" name.
  struct RemoveUnlessStarted {
    std::string dir;
    bool armed;
    ~RemoveUnlessStarted() {
      std::error_code e;
      if (armed) fs::remove_all(dir, e);
    }
  } remove_unless_started{result.run_dir, new_folder && !resume};
  const std::string config_text = TrainConfigToText(config);
  if (!resume) {
    PrepareFreshRunFolder(result.run_dir, overwrite);
    WriteFileAtomically(result.run_dir + "/config.pbtxt", config_text);
  }

  auto dataset = std::make_shared<data::ReidDataset>(LoadTrainData(config, working_dir));
  if (resume) {
    // The checkpoint the coordinator will restore, checked against this run's data while nothing in the run
    // folder has changed yet: another dataset must be refused here, not end in an index error mid-epoch.
    proto::Checkpoint checkpoint;
    actors::CheckpointChoice choice;
    if (!actors::ReadNewestValidCheckpoint(checkpoint_dir, &checkpoint, &choice)) {
      throw std::runtime_error("--resume: " + checkpoint_dir + " holds no checkpoint; nothing was changed");
    }
    for (const std::string& skipped : choice.skipped) std::fprintf(stderr, "train: skipping %s\n", skipped.c_str());
    if (!choice.skipped.empty()) {
      std::fprintf(stderr, "train: resuming from the newest valid checkpoint, %s\n", choice.path.c_str());
    }
    const proto::DatasetFingerprint current = DatasetFingerprintOf(*dataset, config);
    std::string problem;
    if (checkpoint.has_dataset()) {
      problem = CompareFingerprints(checkpoint.dataset(), current);
      if (problem.empty() && checkpoint.dataset().root() != current.root()) {
        std::fprintf(stderr, "train: the dataset moved from %s to %s (same images); resuming\n",
                     checkpoint.dataset().root().c_str(), current.root().c_str());
      }
    } else if (checkpoint.memory_features().shape_size() > 0 &&
               checkpoint.memory_features().shape(0) != current.train_images()) {
      problem = "the checkpoint's memory bank has " + std::to_string(checkpoint.memory_features().shape(0)) +
                " rows, but this run's data is " + DescribeFingerprint(current);
    }
    if (!problem.empty()) {
      throw std::runtime_error("--resume refused: " + problem + " (" + choice.path + "). Nothing in " +
                               result.run_dir +
                               " was changed; resume with the data the run was trained on, or train on the new "
                               "data as a new run (another --name)");
    }
  }
  // UDA mode: stage 1 trains on the labelled source dataset.
  std::shared_ptr<const data::ReidDataset> source;
  if (config.warmup().mode() == proto::WarmupConfig::SUPERVISED_SOURCE) {
    source = std::make_shared<data::ReidDataset>(LoadSourceData(config, working_dir));
  }
  const int64_t n = static_cast<int64_t>(dataset->train.records.size());
  const int64_t n_warmup = source ? static_cast<int64_t>(source->train.records.size()) : n;
  const int64_t batch = std::max(1, run.batch_size());
  const int64_t steps =
      run.warmup_epochs() * (n_warmup / batch) + (run.gan_warmup_epochs() + run.joint_epochs()) * (n / batch);
  auto recorder = std::make_shared<RunRecorder>(result.run_dir, steps, config.output().progress_interval_s(), interactive);
  recorder->SetJointEpochs(run.joint_epochs());
  actors::JobBackends backends = MakeJobBackends(config, dataset, recorder, source);
  if (resume) {
    // The effective config replaces the saved one only once the checkpoint is restored.
    const std::string path = result.run_dir + "/config.pbtxt";
    backends.on_restored = [path, config_text] { WriteFileAtomically(path, config_text); };
  }

  remove_unless_started.armed = false;  // from here on the folder holds a run, stopped or not
  caf::actor_system_config cfg;
  actors::AddProtocolTypes(cfg);
  cfg.set("scheduler.max-threads", 2);
  {
    caf::actor_system system{cfg};
    caf::scoped_actor self{system};
    caf::actor job = actors::SpawnCoordinator(system, run, backends, checkpoint_dir, resume);
    self->request(job, caf::infinite, actors::run_atom::value)
        .receive([&](actors::RunReportMsg& report) { result.report = std::move(report.value); },
                 [&](caf::error& error) {
                   result.report.set_completed(false);
                   result.report.set_error("coordinator: " + actors::DescribeError(error));
                 });
  }
  recorder->FinishLine();
  if (resume && result.report.resumed_from().empty()) {
    // The restore itself failed (e.g. a checkpoint whose networks do not fit this config): the folder stays as
    // the last process left it, metrics and reports included.
    throw std::runtime_error("--resume failed before training continued, so nothing in " + result.run_dir +
                             " was changed: " + result.report.error());
  }
  // What GCL has to beat: the colour histograms on the same test split (a few seconds).
  AddTestSplitHistograms(*dataset, recorder.get());
  // A check on real street video (output.real_footage_video): the run's exports and the histograms.
  try {
    AddRealFootageCheck(config, result.run_dir, working_dir, recorder.get());
  } catch (const std::exception& e) {
    // The run itself is done and its outputs must still be written: the report says why the check is missing.
    recorder->AddNote("The real-footage check could not run: " + std::string(e.what()));
    std::cerr << "train: the real-footage check could not run: " << e.what() << "\n";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteRunOutputs(result.run_dir, config, result.report, *recorder, seconds);
  return result;
}

}  // namespace gcl::training

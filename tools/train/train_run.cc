#include "tools/train/train_run.h"

#include <caf/all.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "actors/coordinator.h"
#include "actors/protocol.h"
#include "common/atomic_file.h"
#include "common/device.h"
#include "common/user_path.h"
#include "tools/train/gcl_backends.h"
#include "tools/train/run_outputs.h"
#include "tools/train/train_config.h"

namespace gcl::train {

TrainResult RunTraining(const proto::TrainConfig& config, const std::string& working_dir, bool resume,
                        bool interactive) {
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
  fs::create_directories(result.run_dir);
  WriteFileAtomically(result.run_dir + "/config.pbtxt", TrainConfigToText(config));

  auto dataset = std::make_shared<data::ReidDataset>(LoadTrainData(config, working_dir));
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
  const actors::JobBackends backends = MakeJobBackends(config, dataset, recorder, source);

  caf::actor_system_config cfg;
  actors::AddProtocolTypes(cfg);
  cfg.set("scheduler.max-threads", 2);
  {
    caf::actor_system system{cfg};
    caf::scoped_actor self{system};
    caf::actor job = actors::SpawnCoordinator(system, run, backends, result.run_dir + "/checkpoints", resume);
    self->request(job, caf::infinite, actors::run_atom::value)
        .receive([&](actors::RunReportMsg& report) { result.report = std::move(report.value); },
                 [&](caf::error& error) {
                   result.report.set_completed(false);
                   result.report.set_error("coordinator: " + actors::DescribeError(error));
                 });
  }
  recorder->FinishLine();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteRunOutputs(result.run_dir, config, result.report, *recorder, seconds);
  return result;
}

}  // namespace gcl::train

// The actor runtime driven end to end with small deterministic backends (fake_backends.h): the coordinator's
// phase state machine, credit-based back-pressure, a failing clusterer, a failing trainer step, corrupt files,
// malformed messages, and a stopped run resumed from its last checkpoint ending where an uninterrupted run ends.
// Every wait is a scoped_actor receive with a timeout, so a hang fails the test instead of blocking CI.
#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "actors/checkpointer.h"
#include "actors/clusterer.h"
#include "actors/coordinator.h"
#include "actors/loader.h"
#include "actors/memory_bank.h"
#include "actors/protocol.h"
#include "actors/run_config.h"
#include "actors/trainer.h"
#include "tests/actors/fake_backends.h"

namespace gcl::actors {
namespace {

using testing::FloatTensor;
using testing::ToyBank;
using testing::ToyCluster;
using testing::ToySource;
using testing::ToyTrainer;

constexpr auto kTimeout = std::chrono::seconds(20);

// The clustering passes (Batch.labels_epoch) the trainer's joint batches named, by joint epoch.
struct LabelPasses {
  std::mutex mu;
  std::map<int64_t, std::set<int64_t>> by_epoch;
};

struct Config : caf::actor_system_config {
  Config() {
    AddProtocolTypes(*this);
    set("scheduler.max-threads", 2);
  }
};

class RuntimeTest : public ::testing::Test {
 protected:
  RuntimeTest() : system_(cfg_), self_(system_) {}

  std::string TempDir(const std::string& name) {
    const std::string dir = std::string(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp") +
                            "/runtime_test_" + name;
    std::filesystem::remove_all(dir);
    return dir;
  }

  static proto::RunConfig SmallConfig() {
    proto::RunConfig c;
    c.set_seed(7);
    c.set_warmup_epochs(1);
    c.set_gan_warmup_epochs(2);
    c.set_joint_epochs(2);
    c.set_batch_size(4);
    c.set_loader_workers(2);
    c.set_prefetch_batches(2);
    c.set_num_negatives(2);
    c.set_evaluate_each_epoch(true);
    c.set_request_timeout_s(20);
    return ResolveRunConfig(c);
  }

  // Backends over one shared source; `trainer_fail_at` >= 0 makes the trainer throw at that global step.
  JobBackends Backends(std::shared_ptr<ToySource> source, ToyCluster cluster, int64_t trainer_fail_at = -1,
                       ToyTrainer** trainer_out = nullptr, std::shared_ptr<LabelPasses> passes = nullptr) {
    JobBackends b;
    b.train_set = source;
    b.make_trainer = [source, trainer_fail_at, trainer_out, passes] {
      auto trainer = std::make_unique<ToyTrainer>(source, trainer_fail_at);
      if (trainer_out) *trainer_out = trainer.get();
      if (passes) {
        trainer->on_batch = [passes](const proto::Batch& batch) {
          if (batch.phase() != proto::PHASE_JOINT) return;
          std::lock_guard<std::mutex> lock(passes->mu);
          passes->by_epoch[batch.epoch()].insert(batch.labels_epoch());
        };
      }
      return trainer;
    };
    b.make_bank = [] { return std::make_unique<ToyBank>(/*seed=*/11); };
    b.cluster = cluster;
    b.evaluate = [](const proto::Tensor& query, const proto::Tensor& gallery) {
      proto::EvalReport report;
      report.set_mean_ap(static_cast<double>(query.shape(0)) / gallery.shape(0));
      report.add_cmc(1.0);
      return report;
    };
    return b;
  }

  proto::RunReport Run(caf::actor coordinator) {
    proto::RunReport report;
    self_->request(coordinator, kTimeout, run_atom::value)
        .receive([&](RunReportMsg& r) { report = std::move(r.value); },
                 [&](caf::error& e) { ADD_FAILURE() << "run failed: " << DescribeError(e); });
    return report;
  }

  Config cfg_;
  caf::actor_system system_;
  caf::scoped_actor self_;
};

std::vector<std::pair<proto::Phase, int64_t>> Epochs(const proto::RunReport& report) {
  std::vector<std::pair<proto::Phase, int64_t>> out;
  for (const proto::EpochSummary& s : report.history()) out.emplace_back(s.phase(), s.epoch());
  return out;
}

TEST_F(RuntimeTest, PhasesRunInOrderWithCheckpointsAndClusteringPerJointEpoch) {
  auto source = std::make_shared<ToySource>(16);
  ToyCluster cluster;
  const std::string dir = TempDir("phases");
  auto passes = std::make_shared<LabelPasses>();
  caf::actor job =
      SpawnCoordinator(system_, SmallConfig(), Backends(source, cluster, -1, nullptr, passes), dir, /*resume=*/false);
  const proto::RunReport report = Run(job);
  ASSERT_TRUE(report.completed()) << report.error();
  // Every joint epoch trains on the pass clustered right before it (reference §6).
  const std::map<int64_t, std::set<int64_t>> fresh = {{0, {0}}, {1, {1}}};
  EXPECT_EQ(passes->by_epoch, fresh);
  EXPECT_EQ(report.phase(), proto::PHASE_DONE);
  const std::vector<std::pair<proto::Phase, int64_t>> expected = {
      {proto::PHASE_WARMUP, 0}, {proto::PHASE_GAN_WARMUP, 0}, {proto::PHASE_GAN_WARMUP, 1},
      {proto::PHASE_JOINT, 0},  {proto::PHASE_JOINT, 1}};
  EXPECT_EQ(Epochs(report), expected);
  // 16 samples / batch 4 in the warm-up phases; the joint phase trains every clustered sample (no outliers here).
  for (const proto::EpochSummary& s : report.history()) EXPECT_EQ(s.steps(), 4) << proto::Phase_Name(s.phase());
  EXPECT_EQ(report.global_step(), 20);
  // One clustering pass before each joint epoch: the first after the memory is initialised, the second at the
  // boundary between the two joint epochs.
  EXPECT_EQ(cluster.calls->load(), 2);
  // Evaluation before the joint phase (end of GAN warm-up) and after every joint epoch (reference §8).
  EXPECT_FALSE(report.history(0).has_eval());
  EXPECT_FALSE(report.history(1).has_eval());
  EXPECT_TRUE(report.history(2).has_eval());
  EXPECT_TRUE(report.history(3).has_eval());
  EXPECT_TRUE(report.history(4).has_eval());
  EXPECT_DOUBLE_EQ(report.history(4).eval().mean_ap(), 3.0 / 5.0);
  EXPECT_GT(report.history(3).num_clusters(), 0);
  // The last checkpoint says the run is done and holds the bank, the labels and the whole history.
  proto::Checkpoint checkpoint;
  ASSERT_TRUE(ReadLatestCheckpoint(dir, &checkpoint));
  EXPECT_EQ(checkpoint.phase(), proto::PHASE_DONE);
  EXPECT_EQ(checkpoint.global_step(), 20);
  EXPECT_EQ(checkpoint.history_size(), 5);
  EXPECT_EQ(checkpoint.memory_features().shape(0), 16);
  EXPECT_EQ(checkpoint.pseudo_labels_size(), 16);
  EXPECT_EQ(report.last_checkpoint(), (std::filesystem::path(dir) / "checkpoint-000000000020.pb").string());
}

TEST_F(RuntimeTest, RunWithoutGanWarmupEvaluatesTheBaselineAtTheEndOfStageOne) {
  auto source = std::make_shared<ToySource>(16);
  ToyCluster cluster;
  proto::RunConfig config = SmallConfig();
  config.set_gan_warmup_epochs(0);
  caf::actor job = SpawnCoordinator(system_, config, Backends(source, cluster), TempDir("no_gan"), /*resume=*/false);
  const proto::RunReport report = Run(job);
  ASSERT_TRUE(report.completed()) << report.error();
  const std::vector<std::pair<proto::Phase, int64_t>> expected = {
      {proto::PHASE_WARMUP, 0}, {proto::PHASE_JOINT, 0}, {proto::PHASE_JOINT, 1}};
  EXPECT_EQ(Epochs(report), expected);
  // The last epoch before stage 3 is the warm-up's: it carries the baseline evaluation.
  EXPECT_TRUE(report.history(0).has_eval());
  EXPECT_TRUE(report.history(1).has_eval());
  EXPECT_TRUE(report.history(2).has_eval());
}

TEST_F(RuntimeTest, StaleLabelOptionStartsJointEpochsWithoutWaitingAndStillCompletes) {
  auto source = std::make_shared<ToySource>(16);
  ToyCluster cluster;
  proto::RunConfig config = SmallConfig();
  config.set_joint_epochs(3);
  config.set_train_on_stale_labels(true);
  auto passes = std::make_shared<LabelPasses>();
  caf::actor job =
      SpawnCoordinator(system_, config, Backends(source, cluster, -1, nullptr, passes), TempDir("stale"), false);
  const proto::RunReport report = Run(job);
  ASSERT_TRUE(report.completed()) << report.error();
  // Joint epoch 0 waits for the first pass, epoch 1 trains on it while the second is computed, epoch 2 on the
  // second pass or, when that was not done by the end of epoch 1, still on the first. The batches say so.
  ASSERT_EQ(passes->by_epoch.size(), 3u);
  EXPECT_EQ(passes->by_epoch[0], std::set<int64_t>{0});
  EXPECT_EQ(passes->by_epoch[1], std::set<int64_t>{0});
  ASSERT_EQ(passes->by_epoch[2].size(), 1u);
  EXPECT_LE(*passes->by_epoch[2].begin(), 1);
  ASSERT_EQ(report.history_size(), 6);
  // Joint epochs 1 and 2 started on the labels already in use: nothing waited for the clusterer.
  EXPECT_EQ(report.history(4).seconds_waiting_for_labels(), 0);
  EXPECT_EQ(report.history(5).seconds_waiting_for_labels(), 0);
  // The pass before joint epoch 0, one started at the end of epoch 0, and one at the end of epoch 1 unless the
  // previous pass was still running then (one pass at a time).
  EXPECT_GE(cluster.calls->load(), 2);
  EXPECT_LE(cluster.calls->load(), 3);
}

// run.refresh_memory_each_epoch: every clustering pass after the first sees the memory made anew from the
// trainer's train features of that moment, not the momentum memory; without it the train set is extracted once.
TEST_F(RuntimeTest, RefreshOptionClustersFreshTrainFeaturesEveryJointEpoch) {
  for (const bool refresh : {false, true}) {
    SCOPED_TRACE(refresh ? "refresh" : "momentum memory");
    auto source = std::make_shared<ToySource>(16);
    struct Log {
      std::mutex mu;
      std::vector<std::string> extracted;   // train features, in order
      std::vector<std::string> clustered;   // snapshot features, in order
      std::vector<int> extracted_before;    // train extractions done when each pass started
    };
    auto log = std::make_shared<Log>();
    ToyCluster cluster;
    cluster.on_snapshot = [log](const proto::BankSnapshot& bank) {
      std::lock_guard<std::mutex> lock(log->mu);
      log->clustered.push_back(bank.features().data());
      log->extracted_before.push_back(static_cast<int>(log->extracted.size()));
    };
    proto::RunConfig config = SmallConfig();
    config.set_joint_epochs(3);
    config.set_refresh_memory_each_epoch(refresh);
    JobBackends backends = Backends(source, cluster);
    auto make_toy = backends.make_trainer;
    backends.make_trainer = [make_toy, log]() -> std::unique_ptr<TrainerBackend> {
      std::unique_ptr<TrainerBackend> trainer = make_toy();
      static_cast<ToyTrainer*>(trainer.get())->on_extract = [log](const std::string& split, const proto::Tensor& f) {
        if (split != "train") return;
        std::lock_guard<std::mutex> lock(log->mu);
        log->extracted.push_back(f.data());
      };
      return trainer;
    };
    const proto::RunReport report =
        Run(SpawnCoordinator(system_, config, backends, TempDir(refresh ? "refresh" : "no_refresh"), false));
    ASSERT_TRUE(report.completed()) << report.error();
    std::lock_guard<std::mutex> lock(log->mu);
    ASSERT_EQ(log->clustered.size(), 3u);
    ASSERT_EQ(log->extracted.size(), refresh ? 3u : 1u);
    // Pass 0 clusters the memory as stage 3 made it.
    EXPECT_EQ(log->extracted_before[0], 1);
    EXPECT_EQ(log->clustered[0], log->extracted[0]);
    for (size_t pass = 1; pass < 3; ++pass) {
      if (refresh) {
        // Made anew just before this pass, from the trainer's features after the previous epoch's steps.
        EXPECT_EQ(log->extracted_before[pass], static_cast<int>(pass + 1));
        EXPECT_EQ(log->clustered[pass], log->extracted[pass]);
        EXPECT_NE(log->extracted[pass], log->extracted[pass - 1]);
      } else {
        EXPECT_NE(log->clustered[pass], log->extracted[0]);  // the momentum memory moved on
      }
    }
  }
}

TEST_F(RuntimeTest, BackendWithItsOwnMemoryGetsNoContrastRowsAndTheBankStillMirrorsItsUpdates) {
  auto source = std::make_shared<ToySource>(16);
  JobBackends with_rows = Backends(source, ToyCluster{});
  auto samples = std::make_shared<std::atomic<int>>(0);
  JobBackends without_rows = with_rows;
  without_rows.make_trainer = [source] {
    auto trainer = std::make_unique<ToyTrainer>(source);
    trainer->use_contrast = false;
    return trainer;
  };
  without_rows.make_bank = [samples] {
    auto bank = std::make_unique<ToyBank>(11);
    bank->samples = samples;
    return bank;
  };
  const std::string dir = TempDir("no_rows");
  const proto::RunReport report = Run(SpawnCoordinator(system_, SmallConfig(), without_rows, dir, false));
  ASSERT_TRUE(report.completed()) << report.error();
  EXPECT_EQ(samples->load(), 0);
  EXPECT_EQ(report.global_step(), 20);
  // The bank moved away from its initial features: the joint steps' updates reached it.
  proto::Checkpoint checkpoint;
  ASSERT_TRUE(ReadLatestCheckpoint(dir, &checkpoint));
  ToyTrainer fresh(source);
  EXPECT_NE(checkpoint.memory_features().data(), fresh.ExtractFeatures("train").data());
}

TEST_F(RuntimeTest, WarmupSetFeedsTheWarmupPhaseAndTheTrainingSetEverythingElse) {
  // UDA mode: stage 1 iterates a labelled source of its own (24 rows, no structure images); the memory bank,
  // the GAN and joint phases use the 16-row target.
  auto target = std::make_shared<ToySource>(16);
  auto warmup = std::make_shared<ToySource>(24, std::set<int64_t>{}, /*structure=*/false);
  JobBackends backends = Backends(target, ToyCluster{});
  backends.warmup_set = warmup;
  const std::string dir = TempDir("warmup_set");
  const proto::RunReport report = Run(SpawnCoordinator(system_, SmallConfig(), backends, dir, false));
  ASSERT_TRUE(report.completed()) << report.error();
  ASSERT_EQ(report.history_size(), 5);
  EXPECT_EQ(report.history(0).phase(), proto::PHASE_WARMUP);
  EXPECT_EQ(report.history(0).steps(), 6);  // 24 source rows / batch 4
  for (int i = 1; i < 5; ++i) EXPECT_EQ(report.history(i).steps(), 4) << i;  // 16 target rows / batch 4
  EXPECT_EQ(report.global_step(), 22);
  EXPECT_EQ(warmup->loads.load(), 24);  // every source row once, and only in the warm-up
  proto::Checkpoint checkpoint;
  ASSERT_TRUE(ReadLatestCheckpoint(dir, &checkpoint));
  EXPECT_EQ(checkpoint.memory_features().shape(0), 16);
}

TEST_F(RuntimeTest, RunStoppedInAWarmupEpochOnItsOwnSetResumesToTheUninterruptedState) {
  auto target = std::make_shared<ToySource>(16);
  auto warmup = std::make_shared<ToySource>(24, std::set<int64_t>{}, /*structure=*/false);
  proto::RunConfig config = SmallConfig();
  config.set_warmup_epochs(2);
  config.set_gan_warmup_epochs(1);
  config.set_joint_epochs(1);
  auto backends = [&](int64_t fail_at) {
    JobBackends b = Backends(target, ToyCluster{}, fail_at);
    b.warmup_set = warmup;
    return b;
  };
  const std::string dir_a = TempDir("warmup_set_full");
  ASSERT_TRUE(Run(SpawnCoordinator(system_, config, backends(-1), dir_a, false)).completed());
  proto::Checkpoint end_a;
  ASSERT_TRUE(ReadLatestCheckpoint(dir_a, &end_a));
  EXPECT_EQ(end_a.global_step(), 2 * 6 + 4 + 4);

  // Stopped at step 2 of warm-up epoch 1 (global step 8: 6 in epoch 0), then resumed with a healthy trainer.
  const std::string dir_b = TempDir("warmup_set_resumed");
  const proto::RunReport stopped = Run(SpawnCoordinator(system_, config, backends(8), dir_b, false));
  EXPECT_FALSE(stopped.completed());
  EXPECT_NE(stopped.error().find("step 2 of epoch 1"), std::string::npos) << stopped.error();
  proto::Checkpoint mid;
  ASSERT_TRUE(ReadLatestCheckpoint(dir_b, &mid));
  EXPECT_EQ(mid.phase(), proto::PHASE_WARMUP);
  EXPECT_EQ(mid.epoch(), 1);
  EXPECT_EQ(mid.global_step(), 6);
  const proto::RunReport resumed = Run(SpawnCoordinator(system_, config, backends(-1), dir_b, /*resume=*/true));
  ASSERT_TRUE(resumed.completed()) << resumed.error();
  ASSERT_EQ(resumed.history_size(), 4);
  EXPECT_EQ(resumed.history(1).steps(), 6);
  proto::Checkpoint end_b;
  ASSERT_TRUE(ReadLatestCheckpoint(dir_b, &end_b));
  EXPECT_EQ(end_b.global_step(), end_a.global_step());
  EXPECT_EQ(end_b.networks(0).tensors(0).tensor().data(), end_a.networks(0).tensors(0).tensor().data())
      << "trainer weights differ";
  EXPECT_EQ(end_b.memory_features().data(), end_a.memory_features().data()) << "memory banks differ";
}

TEST_F(RuntimeTest, LoaderSendsNoMoreBatchesThanCredited) {
  auto source = std::make_shared<ToySource>(32);
  caf::actor pool = SpawnLoaderPool(system_, source, /*workers=*/3);
  proto::EpochPlan plan;
  plan.set_phase(proto::PHASE_GAN_WARMUP);
  plan.set_epoch(0);
  plan.set_batch_size(4);
  plan.set_seed(3);
  for (int64_t i = 0; i < 32; ++i) plan.add_indices(i);
  self_->send(pool, plan_atom::value, Versioned(plan));
  proto::Credit credit;
  credit.set_credits(2);
  self_->send(pool, Versioned(credit));
  std::vector<int64_t> seen;
  for (int i = 0; i < 2; ++i) {
    self_->receive([&](const BatchMsg& b) { seen.push_back(b.value.batch()); },
                   caf::after(kTimeout) >> [&] { ADD_FAILURE() << "batch " << i << " did not arrive"; });
  }
  // No credit left: nothing more arrives, and the pool never built more than it was allowed to hold.
  bool extra = false;
  self_->receive([&](const BatchMsg&) { extra = true; }, caf::after(std::chrono::milliseconds(300)) >> [] {});
  EXPECT_FALSE(extra);
  self_->request(pool, kTimeout, stats_atom::value).receive(
      [&](const std::vector<int64_t>& stats) {
        EXPECT_EQ(stats[0], 2);   // sent
        EXPECT_LE(stats[2], 2);   // most held at once
      },
      [&](caf::error& e) { ADD_FAILURE() << DescribeError(e); });
  credit.set_credits(3);
  self_->send(pool, Versioned(credit));
  for (int i = 0; i < 3; ++i) {
    self_->receive([&](const BatchMsg& b) { seen.push_back(b.value.batch()); },
                   caf::after(kTimeout) >> [&] { ADD_FAILURE() << "batch did not arrive"; });
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4}));  // in epoch order whichever worker finished first
  self_->receive([&](const BatchMsg&) { extra = true; }, caf::after(std::chrono::milliseconds(300)) >> [] {});
  EXPECT_FALSE(extra);
  // Only what was credited was read from disk: 5 batches of 4.
  EXPECT_EQ(source->loads.load(), 20);
  self_->send_exit(pool, caf::exit_reason::user_shutdown);
}

TEST_F(RuntimeTest, EpochOrderIsAPermutationFixedBySeed) {
  proto::EpochPlan plan;
  for (int64_t i = 0; i < 50; ++i) plan.add_indices(i);
  plan.set_seed(1);
  const std::vector<int64_t> a = EpochOrder(plan);
  EXPECT_EQ(a, EpochOrder(plan));
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  plan.set_seed(2);
  EXPECT_NE(a, EpochOrder(plan));
}

TEST_F(RuntimeTest, CorruptFileIsSkippedAndCounted) {
  auto source = std::make_shared<ToySource>(8, std::set<int64_t>{5});
  caf::actor pool = SpawnLoaderPool(system_, source, 1);
  proto::EpochPlan plan;
  plan.set_phase(proto::PHASE_WARMUP);
  plan.set_batch_size(8);
  plan.set_seed(1);
  for (int64_t i = 0; i < 8; ++i) plan.add_indices(i);
  self_->send(pool, plan_atom::value, Versioned(plan));
  proto::Credit credit;
  credit.set_credits(1);
  self_->send(pool, Versioned(credit));
  self_->receive(
      [&](const BatchMsg& b) {
        EXPECT_EQ(b.value.skipped_files(), 1);
        EXPECT_EQ(b.value.indices_size(), 7);
        EXPECT_EQ(b.value.images().shape(0), 7);
        for (int64_t i : b.value.indices()) EXPECT_NE(i, 5);
        BatchLimits limits;
        limits.num_samples = 8;
        EXPECT_EQ(ValidateBatch(b.value, limits), "");
      },
      caf::after(kTimeout) >> [] { ADD_FAILURE() << "no batch"; });
  self_->send_exit(pool, caf::exit_reason::user_shutdown);
}

TEST_F(RuntimeTest, TooManyCorruptFilesStopTheRunCleanly) {
  auto source = std::make_shared<ToySource>(16, std::set<int64_t>{1, 2, 3});
  proto::RunConfig config = SmallConfig();
  config.set_max_skipped_files_per_epoch(2);
  caf::actor job = SpawnCoordinator(system_, config, Backends(source, ToyCluster{}), TempDir("corrupt"), false);
  const proto::RunReport report = Run(job);
  EXPECT_FALSE(report.completed());
  EXPECT_NE(report.error().find("3 files skipped"), std::string::npos) << report.error();
  EXPECT_EQ(report.phase(), proto::PHASE_WARMUP);
}

TEST_F(RuntimeTest, BatchTheTrainerRejectsFailsItsEpochInsteadOfStallingIt) {
  // A dataset without structure images cannot feed the GAN phases: the trainer refuses the first such batch.
  auto source = std::make_shared<ToySource>(16, std::set<int64_t>{}, /*structure=*/false);
  caf::actor job = SpawnCoordinator(system_, SmallConfig(), Backends(source, ToyCluster{}), TempDir("no_structure"),
                                    false);
  const proto::RunReport report = Run(job);
  EXPECT_FALSE(report.completed());
  EXPECT_EQ(report.phase(), proto::PHASE_GAN_WARMUP);
  EXPECT_NE(report.error().find("Batch.structure_ori"), std::string::npos) << report.error();
  ASSERT_EQ(report.history_size(), 1);  // the warm-up epoch, which needs no structure, completed
}

TEST_F(RuntimeTest, CheckpointThatCannotBeWrittenStopsTheRunWithItsCause) {
  auto source = std::make_shared<ToySource>(16);
  const std::string blocker = TempDir("not_a_dir");
  { std::ofstream(blocker) << "a file where the checkpoint folder should be"; }
  caf::actor job = SpawnCoordinator(system_, SmallConfig(), Backends(source, ToyCluster{}), blocker + "/checkpoints",
                                    false);
  const proto::RunReport report = Run(job);
  EXPECT_FALSE(report.completed());
  EXPECT_NE(report.error().find("checkpointer: cannot create"), std::string::npos) << report.error();
  EXPECT_TRUE(report.last_checkpoint().empty());
}

TEST_F(RuntimeTest, ResumeWithoutACheckpointStopsInsteadOfStartingAfresh) {
  auto source = std::make_shared<ToySource>(16);
  JobBackends backends = Backends(source, ToyCluster{});
  bool restored = false;
  backends.on_restored = [&restored] { restored = true; };
  const proto::RunReport report =
      Run(SpawnCoordinator(system_, SmallConfig(), backends, TempDir("nothing_to_resume"), /*resume=*/true));
  EXPECT_FALSE(report.completed());
  EXPECT_NE(report.error().find("resume: there is no checkpoint in"), std::string::npos) << report.error();
  EXPECT_EQ(report.history_size(), 0) << "it trained from scratch";
  EXPECT_TRUE(report.resumed_from().empty());
  EXPECT_FALSE(restored);
}

TEST_F(RuntimeTest, CorruptNewestCheckpointResumesFromTheNewestValidOneAndSaysSo) {
  auto source = std::make_shared<ToySource>(16);
  const std::string dir = TempDir("corrupt_newest");
  ASSERT_TRUE(Run(SpawnCoordinator(system_, SmallConfig(), Backends(source, ToyCluster{}), dir, false)).completed());
  std::ifstream latest(dir + "/LATEST");
  std::string newest;
  latest >> newest;
  { std::ofstream(dir + "/" + newest, std::ios::trunc) << "not a checkpoint"; }
  proto::Checkpoint chosen;
  CheckpointChoice choice;
  ASSERT_TRUE(ReadNewestValidCheckpoint(dir, &chosen, &choice));
  ASSERT_EQ(choice.skipped.size(), 1u);
  EXPECT_NE(choice.skipped[0].find(newest), std::string::npos) << choice.skipped[0];
  EXPECT_NE(choice.path, dir + "/" + newest);
  bool restored = false;
  JobBackends backends = Backends(source, ToyCluster{});
  backends.on_restored = [&restored] { restored = true; };
  const proto::RunReport resumed = Run(SpawnCoordinator(system_, SmallConfig(), backends, dir, /*resume=*/true));
  ASSERT_TRUE(resumed.completed()) << resumed.error();
  EXPECT_TRUE(restored);
  EXPECT_EQ(resumed.resumed_from(), choice.path);
  ASSERT_GE(resumed.failures_size(), 1);
  EXPECT_EQ(resumed.failures(0).actor(), "checkpointer");
  EXPECT_TRUE(resumed.failures(0).recoverable());
  EXPECT_NE(resumed.failures(0).cause().find("resumed from the newest valid one"), std::string::npos);

  // Every file corrupt: the resume stops naming each of them.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".pb") std::ofstream(entry.path(), std::ios::trunc) << "garbage";
  }
  const proto::RunReport none = Run(SpawnCoordinator(system_, SmallConfig(), Backends(source, ToyCluster{}), dir, true));
  EXPECT_FALSE(none.completed());
  EXPECT_NE(none.error().find("no valid checkpoint in " + dir), std::string::npos) << none.error();
}

TEST_F(RuntimeTest, BackendThatCannotBeBuiltStopsTheRunWithItsCause) {
  auto source = std::make_shared<ToySource>(16);
  JobBackends backends = Backends(source, ToyCluster{});
  backends.make_trainer = []() -> std::unique_ptr<TrainerBackend> {
    throw std::runtime_error("weights.pth: not a torch.save archive");
  };
  const proto::RunReport report =
      Run(SpawnCoordinator(system_, SmallConfig(), backends, TempDir("cannot_start"), /*resume=*/false));
  EXPECT_FALSE(report.completed());
  EXPECT_EQ(report.error(), "trainer: cannot start: weights.pth: not a torch.save archive");
  ASSERT_EQ(report.failures_size(), 1);
  EXPECT_EQ(report.failures(0).actor(), "trainer");
}

TEST_F(RuntimeTest, FailingClustererIsRestartedAndTheRunCompletes) {
  auto source = std::make_shared<ToySource>(16);
  ToyCluster cluster;
  cluster.failures = 1;
  caf::actor job = SpawnCoordinator(system_, SmallConfig(), Backends(source, cluster), TempDir("retry"), false);
  const proto::RunReport report = Run(job);
  ASSERT_TRUE(report.completed()) << report.error();
  ASSERT_EQ(report.failures_size(), 1);
  EXPECT_EQ(report.failures(0).actor(), "clusterer");
  EXPECT_TRUE(report.failures(0).recoverable());
  EXPECT_NE(report.failures(0).cause().find("simulated failure in pass 0"), std::string::npos)
      << report.failures(0).cause();
  EXPECT_EQ(cluster.calls->load(), 3);
}

TEST_F(RuntimeTest, ClustererThatKeepsFailingStopsTheRunWithTheLastCheckpointIntact) {
  auto source = std::make_shared<ToySource>(16);
  ToyCluster cluster;
  cluster.failures = 100;
  const std::string dir = TempDir("cluster_stop");
  caf::actor job = SpawnCoordinator(system_, SmallConfig(), Backends(source, cluster), dir, false);
  const proto::RunReport report = Run(job);
  EXPECT_FALSE(report.completed());
  EXPECT_EQ(report.phase(), proto::PHASE_JOINT);
  EXPECT_NE(report.error().find("clusterer failed 3 time(s)"), std::string::npos) << report.error();
  EXPECT_EQ(report.failures_size(), 3);
  // The checkpoint of the end of GAN warm-up is intact and says where to continue.
  proto::Checkpoint checkpoint;
  ASSERT_TRUE(ReadLatestCheckpoint(dir, &checkpoint));
  EXPECT_EQ(checkpoint.phase(), proto::PHASE_JOINT);
  EXPECT_EQ(checkpoint.epoch(), 0);
  EXPECT_EQ(checkpoint.global_step(), 12);
}

TEST_F(RuntimeTest, FinishedRunResumedWithMoreJointEpochsTrainsOnlyTheNewOnes) {
  auto source = std::make_shared<ToySource>(16);
  ToyCluster cluster;
  const std::string dir = TempDir("extended");
  const proto::RunReport first = Run(SpawnCoordinator(system_, SmallConfig(), Backends(source, cluster), dir, false));
  ASSERT_TRUE(first.completed()) << first.error();
  EXPECT_EQ(first.global_step(), 20);

  // The same config again: nothing is left to train.
  const proto::RunReport again = Run(SpawnCoordinator(system_, SmallConfig(), Backends(source, cluster), dir, true));
  ASSERT_TRUE(again.completed()) << again.error();
  EXPECT_EQ(again.global_step(), 20);
  EXPECT_EQ(Epochs(again), Epochs(first));

  // One more joint epoch: it clusters once more and trains joint epoch 2 only.
  proto::RunConfig longer = SmallConfig();
  longer.set_joint_epochs(3);
  const int calls_before = cluster.calls->load();
  const proto::RunReport extended = Run(SpawnCoordinator(system_, longer, Backends(source, cluster), dir, true));
  ASSERT_TRUE(extended.completed()) << extended.error();
  std::vector<std::pair<proto::Phase, int64_t>> expected = Epochs(first);
  expected.emplace_back(proto::PHASE_JOINT, 2);
  EXPECT_EQ(Epochs(extended), expected);
  EXPECT_EQ(extended.global_step(), 24);
  EXPECT_EQ(cluster.calls->load(), calls_before + 1);
  EXPECT_TRUE(extended.history(5).has_eval());
}

TEST_F(RuntimeTest, FailingStepStopsTheRunAndResumeEndsWhereAnUninterruptedRunEnds) {
  // Reference run, never interrupted.
  ToyTrainer* reference_trainer = nullptr;
  auto source = std::make_shared<ToySource>(16);
  const std::string dir_a = TempDir("uninterrupted");
  caf::actor a = SpawnCoordinator(system_, SmallConfig(), Backends(source, ToyCluster{}, -1, &reference_trainer),
                                  dir_a, false);
  const proto::RunReport full = Run(a);
  ASSERT_TRUE(full.completed()) << full.error();
  proto::Checkpoint end_a;
  ASSERT_TRUE(ReadLatestCheckpoint(dir_a, &end_a));

  // The same run whose trainer throws in the middle of joint epoch 1 (global step 18 of 20).
  const std::string dir_b = TempDir("interrupted");
  caf::actor b = SpawnCoordinator(system_, SmallConfig(), Backends(source, ToyCluster{}, /*fail_at=*/18), dir_b,
                                  false);
  const proto::RunReport stopped = Run(b);
  EXPECT_FALSE(stopped.completed());
  EXPECT_NE(stopped.error().find("step 2 of epoch 1"), std::string::npos) << stopped.error();
  EXPECT_NE(stopped.error().find("simulated c10::Error"), std::string::npos) << stopped.error();
  proto::Checkpoint mid;
  ASSERT_TRUE(ReadLatestCheckpoint(dir_b, &mid));
  EXPECT_EQ(mid.phase(), proto::PHASE_JOINT);
  EXPECT_EQ(mid.epoch(), 1);
  EXPECT_EQ(mid.global_step(), 16);

  // Resume with a healthy trainer: it replays joint epoch 1 and ends in the uninterrupted run's state.
  caf::actor c = SpawnCoordinator(system_, SmallConfig(), Backends(source, ToyCluster{}), dir_b, /*resume=*/true);
  const proto::RunReport resumed = Run(c);
  ASSERT_TRUE(resumed.completed()) << resumed.error();
  EXPECT_EQ(Epochs(resumed), Epochs(full));
  proto::Checkpoint end_b;
  ASSERT_TRUE(ReadLatestCheckpoint(dir_b, &end_b));
  EXPECT_EQ(end_b.global_step(), end_a.global_step());
  ASSERT_EQ(end_b.networks_size(), 1);
  EXPECT_EQ(end_b.networks(0).tensors(0).tensor().data(), end_a.networks(0).tensors(0).tensor().data())
      << "trainer weights differ";
  EXPECT_EQ(end_b.memory_features().data(), end_a.memory_features().data()) << "memory banks differ";
  EXPECT_EQ(std::vector<int64_t>(end_b.pseudo_labels().begin(), end_b.pseudo_labels().end()),
            std::vector<int64_t>(end_a.pseudo_labels().begin(), end_a.pseudo_labels().end()));
  EXPECT_EQ(end_b.rng(0).state(), end_a.rng(0).state());
}

TEST_F(RuntimeTest, MalformedMessagesAreAnsweredWithErrorsAndTheActorsCarryOn) {
  auto source = std::make_shared<ToySource>(8);
  caf::actor bank = SpawnMemoryBank(system_, std::make_unique<ToyBank>(1), 0.2);
  caf::actor trainer = SpawnTrainer(system_, std::make_unique<ToyTrainer>(source), caf::actor{}, bank, 8, 0, 2);
  caf::actor clusterer = SpawnClusterer(system_, ToyCluster{}, SmallConfig());
  auto expect_error = [&](auto&& request, const std::string& needle) {
    request.receive([&](caf::message&) { ADD_FAILURE() << "accepted a malformed message (" << needle << ")"; },
                    [&](caf::error& e) {
                      EXPECT_TRUE(IsError(e, gcl_errc::protocol) || IsError(e, gcl_errc::not_ready))
                          << DescribeError(e);
                      EXPECT_NE(DescribeError(e).find(needle), std::string::npos) << DescribeError(e);
                    });
  };
  // A bank that is not initialised yet says so.
  expect_error(self_->request(bank, kTimeout, snapshot_atom::value), "not initialised");
  proto::BankSnapshot init;
  init.set_version(kActorProtocolVersion);
  *init.mutable_features() = FloatTensor({8, 4}, std::vector<float>(32, 0.5f));
  self_->request(bank, kTimeout, init_atom::value, Wrap(init))
      .receive([] {}, [&](caf::error& e) { ADD_FAILURE() << DescribeError(e); });

  proto::FeatureUpdate update;
  update.set_version(kActorProtocolVersion);
  update.add_indices(9);  // a bank of 8 rows
  *update.mutable_features() = FloatTensor({1, 4}, {1, 0, 0, 0});
  expect_error(self_->request(bank, kTimeout, Wrap(update)), "FeatureUpdate.indices[0] = 9 is outside [0, 8)");
  update.set_indices(0, 3);
  *update.mutable_features() = FloatTensor({1, 3}, {1, 0, 0});
  expect_error(self_->request(bank, kTimeout, Wrap(update)), "FeatureUpdate.features: shape [1, 3], expected [1, 4]");
  update.mutable_features()->mutable_data()->pop_back();
  expect_error(self_->request(bank, kTimeout, Wrap(update)), "11 bytes of data");
  proto::PseudoLabels labels;
  labels.set_version(kActorProtocolVersion);
  labels.add_labels(0);
  expect_error(self_->request(bank, kTimeout, labels_atom::value, Wrap(labels)), "1 labels for a bank of 8 rows");

  proto::Batch batch;  // version 0: the sender forgot the field
  batch.add_indices(0);
  expect_error(self_->request(trainer, kTimeout, Wrap(batch)), "Batch.version is 0");
  batch.set_version(kActorProtocolVersion);
  batch.set_phase(proto::PHASE_WARMUP);
  *batch.mutable_images() = FloatTensor({1, 3, 4}, std::vector<float>(12, 0.f));
  expect_error(self_->request(trainer, kTimeout, Wrap(batch)), "Batch.images: shape [1, 3, 4] has rank 3");
  *batch.mutable_images() = FloatTensor({1, 3, 4, 2}, std::vector<float>(24, 0.f));
  expect_error(self_->request(trainer, kTimeout, Wrap(batch)), "no epoch in progress");
  proto::EpochPlan plan;
  plan.set_version(kActorProtocolVersion);
  plan.set_phase(proto::PHASE_JOINT);
  plan.set_batch_size(2);
  plan.add_indices(0);
  plan.add_indices(1);
  plan.add_labels(0);  // one label for two indices
  expect_error(self_->request(trainer, kTimeout, epoch_atom::value, Wrap(plan)), "1 labels for 2 indices");

  proto::BankSnapshot bad_snapshot = init;
  bad_snapshot.add_labels(0);  // 1 label for 8 rows
  expect_error(self_->request(clusterer, kTimeout, cluster_atom::value, Wrap(bad_snapshot)),
               "BankSnapshot.labels: 1 labels for 8 rows");

  // All three are alive and answer well-formed requests.
  self_->request(bank, kTimeout, snapshot_atom::value)
      .receive([](const BankSnapshotMsg& s) { EXPECT_EQ(s.value.features().shape(0), 8); },
               [&](caf::error& e) { ADD_FAILURE() << DescribeError(e); });
  self_->request(trainer, kTimeout, extract_atom::value, std::string("train"))
      .receive([](const TensorMsg& t) { EXPECT_EQ(t.value.shape(0), 8); },
               [&](caf::error& e) { ADD_FAILURE() << DescribeError(e); });
  self_->request(clusterer, kTimeout, cluster_atom::value, Wrap(init))
      .receive([](const PseudoLabelsMsg& l) { EXPECT_EQ(l.value.labels_size(), 8); },
               [&](caf::error& e) { ADD_FAILURE() << DescribeError(e); });
  self_->request(trainer, kTimeout, stats_atom::value)
      .receive([](const std::vector<int64_t>& s) { EXPECT_EQ(s[1], 3); },  // three batches rejected
               [&](caf::error& e) { ADD_FAILURE() << DescribeError(e); });
  for (const caf::actor& a : {bank, trainer, clusterer}) self_->send_exit(a, caf::exit_reason::user_shutdown);
}

TEST(RunConfigTest, DefaultsFollowTheReferenceAndBadValuesNameTheField) {
  proto::RunConfig c;
  c.set_joint_epochs(20);
  const proto::RunConfig r = ResolveRunConfig(c);
  EXPECT_EQ(r.batch_size(), 16);
  EXPECT_EQ(r.k1(), 30);
  EXPECT_EQ(r.k2(), 6);
  EXPECT_EQ(r.min_samples(), 4);
  EXPECT_DOUBLE_EQ(r.momentum(), 0.2);
  EXPECT_DOUBLE_EQ(r.temperature(), 0.04);
  EXPECT_EQ(r.num_negatives(), 8192);
  EXPECT_FALSE(r.train_on_stale_labels());
  c.set_rho(1.5);
  try {
    ResolveRunConfig(c);
    ADD_FAILURE() << "rho 1.5 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("RunConfig.rho"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ResolveRunConfig(proto::RunConfig{}), std::runtime_error);  // nothing to train
  EXPECT_THROW(ParseHostPort("workers[0]", "localhost"), std::runtime_error);
  EXPECT_THROW(ParseHostPort("workers[0]", "localhost:99999"), std::runtime_error);
  EXPECT_EQ(ParseHostPort("workers[0]", "127.0.0.1:4242").second, 4242);
}

}  // namespace
}  // namespace gcl::actors

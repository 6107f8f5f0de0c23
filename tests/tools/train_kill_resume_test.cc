// Kill and resume with the real GCL backends: //tools/train:train on the tiny synthetic world (configs/tiny.pbtxt
// with a second stage-1 epoch) is SIGKILLed in the middle of an epoch, after a checkpoint was written, and
// started again with --resume; its final checkpoint must equal, bit for bit, the one of the same run never
// interrupted: E_id, E_str/G, D weights and buffers, optimizer and schedule states, both memories (the trainer's
// and the runtime bank's) with their labels, the pseudo labels, the random streams, phase, epoch and step, and the
// per-epoch losses and test metrics. Two kills: in the middle of stage 1 (the warm-up memory and its DBSCAN
// labels), and in the middle of the second stage-3 epoch (joint memory, pseudo labels of a finished clustering).
// Against the same uninterrupted run, a run with the named option run.train_on_stale_labels.
//
// The kill point is found from the progress bar: the child's stderr is a pseudo terminal, so the trainer draws
// its "<phase> epoch E batch B/N" line after every step (output.progress_interval_s set tiny).
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <poll.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "actors/checkpointer.h"
#include "tests/support/binary_under_test.h"
#include "tests/support/child_process.h"
#include "proto/checkpoint.pb.h"

namespace {

namespace fs = std::filesystem;
using gcl::testing_support::ReadFile;
using gcl::testing_support::StartChild;
using gcl::testing_support::TestTmpDir;
using gcl::testing_support::WaitForExit;

std::string g_train_binary;

// The run's command line: tiny with two stage-1 epochs (so that a checkpoint exists inside stage 1), one
// intra-op thread, the synthetic world cached beside the runs.
std::vector<std::string> TrainArgs(bool resume, const std::vector<std::string>& sets = {}) {
  std::vector<std::string> args = {g_train_binary,
                                   "--config=tiny",
                                   "--threads=1",
                                   "--set",
                                   "run.warmup_epochs=2",
                                   "--set",
                                   "output.progress_interval_s=0.000001",
                                   "--set",
                                   "data.cache_dir=" + (TestTmpDir() / "synth_cache").string()};
  for (const std::string& s : sets) args.insert(args.end(), {"--set", s});
  if (resume) args.push_back("--resume");
  return args;
}

// Starts the train binary in `work` as `bazel run` does (BUILD_WORKING_DIRECTORY), stdout to work/train.log;
// stderr goes to the log too, or to the pseudo terminal `pty_slave` when one is given.
pid_t StartTrain(const fs::path& work, std::vector<std::string> args, const std::string& pty_slave = "") {
  return StartChild(std::move(args), {work / "train.log", -1, pty_slave, work});
}

fs::path WorkDir(const std::string& name) {
  const fs::path dir = TestTmpDir() / ("train_kill_resume_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs the whole job uninterrupted in `work`; returns the train log when it fails, else "".
std::string RunToTheEnd(const fs::path& work, bool resume, const std::vector<std::string>& sets = {}) {
  const int code = WaitForExit(StartTrain(work, TrainArgs(resume, sets)));
  return code == 0 ? "" : "exit code " + std::to_string(code) + "\n" + ReadFile(work / "train.log");
}

// ---- checkpoint comparison ----

// Largest |a - b| of two float32 tensors of the same shape (their bytes differ), for the failure message.
std::string FloatDifference(const gcl::proto::Tensor& a, const gcl::proto::Tensor& b) {
  if (a.dtype() != gcl::proto::DTYPE_FLOAT32 || a.data().size() != b.data().size()) return "";
  const size_t n = a.data().size() / sizeof(float);
  double worst = 0;
  size_t differing = 0;
  for (size_t i = 0; i < n; ++i) {
    float x, y;
    std::memcpy(&x, a.data().data() + i * sizeof(float), sizeof(float));
    std::memcpy(&y, b.data().data() + i * sizeof(float), sizeof(float));
    if (std::memcmp(&x, &y, sizeof(float)) != 0) ++differing;
    worst = std::max(worst, std::fabs(static_cast<double>(x) - y));
  }
  return " (" + std::to_string(differing) + " of " + std::to_string(n) + " elements differ, max |diff| " +
         std::to_string(worst) + ")";
}

void CompareTensor(const std::string& what, const gcl::proto::Tensor& a, const gcl::proto::Tensor& b,
                   std::vector<std::string>* diffs) {
  if (a.dtype() != b.dtype() || std::vector<int64_t>(a.shape().begin(), a.shape().end()) !=
                                    std::vector<int64_t>(b.shape().begin(), b.shape().end())) {
    diffs->push_back(what + ": dtype or shape differs");
  } else if (a.data() != b.data()) {
    diffs->push_back(what + ": values differ" + FloatDifference(a, b));
  }
}

// A LibTorch optimizer archive (the trainer's OptimizerState bytes) as name -> value, the names free of what
// differs between processes: the archive keys each parameter's state by the address of its TensorImpl, so equal
// states have different bytes. Names: "group<i>.<option>" and "group<i>.param<j>.<field>" (Adam: step, exp_avg,
// exp_avg_sq), parameters in the optimizer's order.
std::map<std::string, c10::IValue> OptimizerValues(const std::string& bytes) {
  torch::serialize::InputArchive archive;
  std::istringstream in(bytes);
  archive.load_from(in);
  torch::serialize::InputArchive state, groups;
  archive.read("state", state);
  archive.read("param_groups", groups);
  std::map<std::string, c10::IValue> out;
  torch::Tensor size;
  groups.read("param_groups/size", size);
  for (int64_t i = 0; i < size.item<int64_t>(); ++i) {
    const std::string group_name = "group" + std::to_string(i);
    torch::serialize::InputArchive group, options;
    groups.read("param_groups/" + std::to_string(i), group);
    group.read("options", options);
    for (const std::string& key : options.keys()) options.read(key, out[group_name + "." + key]);
    torch::Tensor params;
    group.read("params/size", params);
    for (int64_t j = 0; j < params.item<int64_t>(); ++j) {
      c10::IValue address;
      group.read("params/" + std::to_string(j), address);
      torch::serialize::InputArchive param;
      if (!state.try_read(address.toStringRef(), param)) continue;  // no step taken with it yet
      for (const std::string& key : param.keys()) {
        param.read(key, out[group_name + ".param" + std::to_string(j) + "." + key]);
      }
    }
  }
  return out;
}

// Bitwise equality of two archive values (tensors compared by their bytes, so NaN == NaN and -0 != +0).
bool SameValue(const c10::IValue& a, const c10::IValue& b) {
  if (a.isTensor() && b.isTensor()) {
    const torch::Tensor x = a.toTensor().contiguous(), y = b.toTensor().contiguous();
    return x.scalar_type() == y.scalar_type() && x.sizes() == y.sizes() &&
           std::memcmp(x.data_ptr(), y.data_ptr(), x.numel() * x.element_size()) == 0;
  }
  return a.isTensor() == b.isTensor() && a == b;
}

void CompareOptimizer(const std::string& name, const std::string& a_bytes, const std::string& b_bytes,
                      std::vector<std::string>* diffs) {
  const std::map<std::string, c10::IValue> a = OptimizerValues(a_bytes), b = OptimizerValues(b_bytes);
  if (a.size() != b.size()) {
    diffs->push_back("optimizer " + name + ": " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) +
                     " state entries");
    return;
  }
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    if (it == b.end()) {
      diffs->push_back("optimizer " + name + ": " + key + " missing after resume");
    } else if (!SameValue(value, it->second)) {
      std::string detail;
      if (value.isTensor() && it->second.isTensor() && value.toTensor().is_floating_point()) {
        detail = " (max |diff| " +
                 std::to_string((value.toTensor() - it->second.toTensor()).abs().max().item<double>()) + ")";
      }
      diffs->push_back("optimizer " + name + ": " + key + " differs" + detail);
    }
  }
}

// Every difference between the final checkpoints of the uninterrupted (`a`) and the resumed (`b`) run that
// decides the model, the data or the metrics; timings and the write time are left out.
std::vector<std::string> CompareCheckpoints(const gcl::proto::Checkpoint& a, const gcl::proto::Checkpoint& b) {
  std::vector<std::string> diffs;
  auto expect = [&](bool same, const std::string& what) {
    if (!same) diffs.push_back(what + " differs");
  };
  expect(a.phase() == b.phase(), "phase");
  expect(a.epoch() == b.epoch(), "epoch");
  expect(a.global_step() == b.global_step(), "global_step");
  expect(a.config().SerializeAsString() == b.config().SerializeAsString(), "config");

  std::map<std::string, const gcl::proto::ModuleState*> b_networks;
  for (const auto& m : b.networks()) b_networks[m.name()] = &m;
  expect(a.networks_size() == b.networks_size(), "number of networks/memories");
  for (const auto& m : a.networks()) {
    auto it = b_networks.find(m.name());
    if (it == b_networks.end()) {
      diffs.push_back("network " + m.name() + " missing after resume");
      continue;
    }
    const gcl::proto::ModuleState& other = *it->second;
    if (m.tensors_size() != other.tensors_size()) {
      diffs.push_back("network " + m.name() + ": tensor count differs");
      continue;
    }
    for (int i = 0; i < m.tensors_size(); ++i) {
      if (m.tensors(i).name() != other.tensors(i).name()) {
        diffs.push_back("network " + m.name() + ": tensor " + std::to_string(i) + " is " + m.tensors(i).name() +
                        " vs " + other.tensors(i).name());
        continue;
      }
      CompareTensor(m.name() + "." + m.tensors(i).name(), m.tensors(i).tensor(), other.tensors(i).tensor(), &diffs);
    }
  }
  expect(a.optimizers_size() == b.optimizers_size(), "number of optimizers");
  for (int i = 0; i < std::min(a.optimizers_size(), b.optimizers_size()); ++i) {
    expect(a.optimizers(i).name() == b.optimizers(i).name(), "optimizer name " + a.optimizers(i).name());
    CompareOptimizer(a.optimizers(i).name(), a.optimizers(i).state(), b.optimizers(i).state(), &diffs);
  }
  expect(a.schedulers_size() == b.schedulers_size(), "number of schedules");
  for (int i = 0; i < std::min(a.schedulers_size(), b.schedulers_size()); ++i) {
    expect(a.schedulers(i).SerializeAsString() == b.schedulers(i).SerializeAsString(),
           "schedule " + a.schedulers(i).name());
  }
  CompareTensor("memory_features (runtime bank)", a.memory_features(), b.memory_features(), &diffs);
  expect(std::equal(a.pseudo_labels().begin(), a.pseudo_labels().end(), b.pseudo_labels().begin(),
                    b.pseudo_labels().end()),
         "pseudo_labels");
  expect(a.rng_size() == b.rng_size(), "number of random streams");
  for (int i = 0; i < std::min(a.rng_size(), b.rng_size()); ++i) {
    expect(a.rng(i).name() == b.rng(i).name() && a.rng(i).state() == b.rng(i).state(),
           "random stream " + a.rng(i).name());
  }
  expect(a.history_size() == b.history_size(), "number of epochs in the history");
  for (int i = 0; i < std::min(a.history_size(), b.history_size()); ++i) {
    gcl::proto::EpochSummary x = a.history(i), y = b.history(i);
    for (gcl::proto::EpochSummary* s : {&x, &y}) {
      s->clear_seconds();
      s->clear_seconds_waiting_for_batches();
      s->clear_seconds_waiting_for_labels();
    }
    // Map order is unspecified in the wire form: compare the losses one by one.
    const std::map<std::string, double> lx(x.mean_losses().begin(), x.mean_losses().end());
    const std::map<std::string, double> ly(y.mean_losses().begin(), y.mean_losses().end());
    expect(lx == ly, "history[" + std::to_string(i) + "].mean_losses");
    x.clear_mean_losses();
    y.clear_mean_losses();
    expect(x.SerializeAsString() == y.SerializeAsString(),
           "history[" + std::to_string(i) + "] (" + gcl::proto::Phase_Name(a.history(i).phase()) + " epoch " +
               std::to_string(a.history(i).epoch()) + ": steps, clusters, eval)");
  }
  return diffs;
}

// The newest checkpoint of a run that is still writing them; false while there is none.
bool ReadLatest(const fs::path& checkpoints, gcl::proto::Checkpoint* checkpoint) {
  try {
    return gcl::actors::ReadLatestCheckpoint(checkpoints.string(), checkpoint);
  } catch (const std::exception&) {
    return false;  // LATEST read just before the checkpointer replaced and pruned: try again
  }
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += "  " + l + "\n";
  return out;
}

class TrainKillResumeTest : public ::testing::Test {
 protected:
  // The uninterrupted run, shared by the tests (it takes as long as the kill and the resume together).
  static void SetUpTestSuite() {
    reference_dir_ = new fs::path(WorkDir("reference"));
    reference_error_ = new std::string(RunToTheEnd(*reference_dir_, /*resume=*/false));
  }
  static void TearDownTestSuite() {
    delete reference_dir_;
    delete reference_error_;
  }

  // Starts a run, SIGKILLs it once the progress bar shows `progress` (e.g. "% joint epoch 1 batch 1/") and the
  // newest checkpoint is at least (`phase`, `epoch`), resumes it to the end and compares the final checkpoint with
  // the reference run's.
  void KillResumeAndCompare(const std::string& name, const std::string& progress, gcl::proto::Phase phase,
                            int64_t epoch) {
    ASSERT_EQ(*reference_error_, "") << "the uninterrupted run failed";
    const fs::path work = WorkDir(name);
    const fs::path checkpoints = work / "runs" / "tiny" / "checkpoints";

    const int master = posix_openpt(O_RDWR | O_NOCTTY);
    ASSERT_GE(master, 0);
    ASSERT_EQ(grantpt(master), 0);
    ASSERT_EQ(unlockpt(master), 0);
    const std::string slave = ptsname(master);
    const pid_t pid = StartTrain(work, TrainArgs(/*resume=*/false), slave);
    ASSERT_GT(pid, 0);

    std::string seen;  // the child's stderr so far
    bool progressed = false, killed = false;
    gcl::proto::Checkpoint at_kill;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!killed && std::chrono::steady_clock::now() < deadline) {
      pollfd p{master, POLLIN, 0};
      if (poll(&p, 1, 10) > 0) {
        char buffer[4096];
        const ssize_t n = read(master, buffer, sizeof buffer);
        if (n > 0) seen.append(buffer, static_cast<size_t>(n));
      }
      progressed = progressed || seen.find(progress) != std::string::npos;
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) break;  // it ended before the kill point: fails below
      if (!progressed || !ReadLatest(checkpoints, &at_kill)) continue;
      if (at_kill.phase() > phase || (at_kill.phase() == phase && at_kill.epoch() >= epoch)) {
        kill(pid, SIGKILL);  // a crash: no chance to clean up
        waitpid(pid, &status, 0);
        killed = WIFSIGNALED(status);
      }
    }
    close(master);
    ASSERT_TRUE(killed) << "the run was not killed at '" << progress << "' after a checkpoint at "
                        << gcl::proto::Phase_Name(phase) << " epoch " << epoch << "; its output:\n"
                        << seen << ReadFile(work / "train.log");
    ASSERT_NE(at_kill.phase(), gcl::proto::PHASE_DONE) << "the run had finished when it was killed";
    std::printf("killed at '%s' with the newest checkpoint at %s epoch %lld (step %lld)\n", progress.c_str(),
                gcl::proto::Phase_Name(at_kill.phase()).c_str(), static_cast<long long>(at_kill.epoch()),
                static_cast<long long>(at_kill.global_step()));
    EXPECT_FALSE(fs::exists(work / "runs" / "tiny" / "report.md"));  // it really stopped before the end

    ASSERT_EQ(RunToTheEnd(work, /*resume=*/true), "");
    gcl::proto::Checkpoint reference, resumed;
    ASSERT_TRUE(gcl::actors::ReadLatestCheckpoint((*reference_dir_ / "runs" / "tiny" / "checkpoints").string(),
                                                  &reference));
    ASSERT_TRUE(gcl::actors::ReadLatestCheckpoint(checkpoints.string(), &resumed));
    EXPECT_EQ(reference.phase(), gcl::proto::PHASE_DONE);
    const std::vector<std::string> diffs = CompareCheckpoints(reference, resumed);
    EXPECT_TRUE(diffs.empty()) << "killed at '" << progress << "' after the checkpoint of "
                               << gcl::proto::Phase_Name(at_kill.phase()) << " epoch " << at_kill.epoch()
                               << " (step " << at_kill.global_step() << "); the resumed run differs from the "
                               << "uninterrupted one in:\n"
                               << Join(diffs);
    // Evaluations of the killed process come back from the checkpoint whole, mINP included.
    const std::string summary = ReadFile(work / "runs" / "tiny" / "summary.json");
    EXPECT_EQ(summary.find("\"mINP\": null"), std::string::npos) << summary;
  }

  static fs::path* reference_dir_;
  static std::string* reference_error_;
};

fs::path* TrainKillResumeTest::reference_dir_ = nullptr;
std::string* TrainKillResumeTest::reference_error_ = nullptr;

// Stage 1, second epoch: the warm-up memory, its labels (clustered at the end of epoch 0) and E_id's Adam state
// come from the checkpoint.
TEST_F(TrainKillResumeTest, KilledInTheMiddleOfStageOneResumesToTheSameState) {
  KillResumeAndCompare("stage1", "% warmup epoch 1 batch 3/", gcl::proto::PHASE_WARMUP, 1);
}

// Stage 3, second joint epoch: the joint memory (trainer and runtime bank), the pseudo labels the resumed run
// clusters anew from the restored bank, and every network's optimizer come from the checkpoint.
TEST_F(TrainKillResumeTest, KilledInTheMiddleOfStageThreeResumesToTheSameState) {
  KillResumeAndCompare("stage3", "% joint epoch 1 batch 1/", gcl::proto::PHASE_JOINT, 1);
}

// Named option run.train_on_stale_labels with the real trainer: joint epoch 0 waits for the first clustering
// pass as the default does (so it equals the reference's epoch 0 bit for bit), joint epoch 1 starts at once on
// that same pass while the clusterer computes the next, and the trainer's memory uses the labels the
// coordinator planned the epoch with.
TEST_F(TrainKillResumeTest, StaleLabelRunTrainsItsSecondJointEpochOnTheFirstPass) {
  ASSERT_EQ(*reference_error_, "") << "the uninterrupted run failed";
  const fs::path work = WorkDir("stale");
  ASSERT_EQ(RunToTheEnd(work, /*resume=*/false, {"run.train_on_stale_labels=true"}), "");
  gcl::proto::Checkpoint reference, stale;
  ASSERT_TRUE(gcl::actors::ReadLatestCheckpoint((*reference_dir_ / "runs" / "tiny" / "checkpoints").string(),
                                                &reference));
  ASSERT_TRUE(gcl::actors::ReadLatestCheckpoint((work / "runs" / "tiny" / "checkpoints").string(), &stale));
  ASSERT_EQ(stale.phase(), gcl::proto::PHASE_DONE);
  ASSERT_EQ(stale.history_size(), 5);  // warm-up 2, GAN warm-up 1, joint 2
  const gcl::proto::EpochSummary &joint0 = stale.history(3), &joint1 = stale.history(4);
  ASSERT_EQ(joint0.phase(), gcl::proto::PHASE_JOINT);
  ASSERT_EQ(joint1.phase(), gcl::proto::PHASE_JOINT);
  // Everything up to the end of joint epoch 0 is the default run's.
  for (int i = 0; i < 4; ++i) {
    const std::map<std::string, double> a(reference.history(i).mean_losses().begin(),
                                          reference.history(i).mean_losses().end());
    const std::map<std::string, double> b(stale.history(i).mean_losses().begin(), stale.history(i).mean_losses().end());
    EXPECT_EQ(a, b) << "epoch entry " << i;
    EXPECT_EQ(stale.history(i).steps(), reference.history(i).steps()) << "epoch entry " << i;
  }
  EXPECT_EQ(joint0.num_clusters(), reference.history(3).num_clusters());
  // Joint epoch 1: the first pass's clusters and clustered samples (tiny: batch size 4, drop_last), no wait.
  EXPECT_EQ(joint1.num_clusters(), joint0.num_clusters());
  EXPECT_EQ(joint1.steps(), joint0.steps());
  EXPECT_EQ(joint1.seconds_waiting_for_labels(), 0);
  // The trainer's memory trained on the labels the runtime bank holds, those of the first pass.
  const gcl::proto::ModuleState* memory = nullptr;
  for (const auto& m : stale.networks()) {
    if (m.name() == "joint_memory") memory = &m;
  }
  ASSERT_NE(memory, nullptr);
  ASSERT_EQ(memory->tensors_size(), 2);
  ASSERT_EQ(memory->tensors(1).name(), "labels");
  const std::string& bytes = memory->tensors(1).tensor().data();
  std::vector<int64_t> labels(bytes.size() / sizeof(int64_t));
  std::memcpy(labels.data(), bytes.data(), bytes.size());
  EXPECT_EQ(labels, std::vector<int64_t>(stale.pseudo_labels().begin(), stale.pseudo_labels().end()));
  const int64_t clusters = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  EXPECT_EQ(clusters, joint0.num_clusters());
  int64_t clustered = std::count_if(labels.begin(), labels.end(), [](int64_t l) { return l >= 0; });
  EXPECT_EQ(clustered / 4, joint1.steps());
}

}  // namespace

int main(int argc, char** argv) { return gcl::testing_support::RunTestsOfBinary(argc, argv, &g_train_binary); }

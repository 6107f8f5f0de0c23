// The training program on the device its config names (run.device), with every tensor of the training path on it:
// the tiny run's three stages (stage 1 with its augmentation and memory, the GAN warm-up, joint GCL with the
// memory bank and pseudo labels) and resumes of its checkpoint on the CPU and back on the device (networks,
// optimizer state and memories read onto the device of the run that resumes), on a second device that refuses any operation mixing it with CPU tensors
// (tests/support/stand_in_device.h). A tensor of the step created on the CPU instead, e.g. a memory bank built from
// the CPU features that extraction returns and never moved, stops the run with that device error.
// And a run asking for CUDA from a LibTorch without it stops at once, before anything is written or rendered.
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/stand_in_device.h"
#include "training/train_config.h"
#include "training/train_run.h"

namespace gcl::training {
namespace {

namespace fs = std::filesystem;

fs::path TmpDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const fs::path dir = fs::path(tmp != nullptr ? tmp : fs::temp_directory_path().string()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// configs/tiny.pbtxt (from the runfiles) with the given overrides, the synthetic world cached under `work`.
proto::TrainConfig TinyConfig(const fs::path& work, const std::vector<std::string>& sets) {
  proto::TrainConfig config = LoadTrainConfig(FindTrainConfig("tiny", work.string()));
  ApplyOverride("data.cache_dir=" + (work / "synth_cache").string(), &config);
  for (const std::string& s : sets) ApplyOverride(s, &config);
  return ResolveTrainConfig(config);
}

int64_t JointEpochLines(const fs::path& run) {
  std::istringstream in(Read(run / "metrics.jsonl"));
  int64_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.find("\"phase\": \"joint\"") != std::string::npos;
  return n;
}

TEST(TrainOnDevice, EveryStageAndResumesAcrossDevicesRunOnTheConfiguredDevice) {
  const std::string device = testing::StandInDevice().str();
  const fs::path work = TmpDir("device_run");
  const int64_t operations = testing::StandInOperationCount();
  const TrainResult first =
      RunTraining(TinyConfig(work, {"run.device=" + device, "run.joint_epochs=1"}), work.string(),
                  /*resume=*/false, /*interactive=*/false);
  ASSERT_TRUE(first.report.completed()) << first.report.error();
  EXPECT_GT(testing::StandInOperationCount(), operations);  // the work really ran there
  EXPECT_EQ(JointEpochLines(first.run_dir), 1);
  // The finished run continued with one more joint epoch on the CPU, then one more on the device: each time the
  // checkpoint (networks, optimizer moments, both memories) is read onto the device of the run that resumes it.
  int64_t joint_epochs = 1;
  for (const std::string& next : {std::string("cpu"), device}) {
    ++joint_epochs;
    const TrainResult resumed = RunTraining(
        TinyConfig(work, {"run.device=" + next, "run.joint_epochs=" + std::to_string(joint_epochs)}), work.string(),
        /*resume=*/true, /*interactive=*/false);
    ASSERT_TRUE(resumed.report.completed()) << "resumed on " << next << ": " << resumed.report.error();
    EXPECT_EQ(JointEpochLines(resumed.run_dir), joint_epochs) << Read(fs::path(resumed.run_dir) / "metrics.jsonl");
    EXPECT_NE(Read(fs::path(resumed.run_dir) / "report.md").find("The run completed"), std::string::npos);
  }
}

TEST(TrainOnDevice, UdaWarmUpAndContrastOnlyJointStepRunOnTheConfiguredDevice) {
  // The other two ways a memory is built and used: UDA's stage 1 (a memory of the labelled source's features) and
  // the contrast-only ablation of stage 3 (paper Tab. 3, with its traditional augmentation).
  const std::string device = testing::StandInDevice().str();
  const fs::path work = TmpDir("device_uda");
  const TrainResult r = RunTraining(
      TinyConfig(work, {"run.device=" + device, "run.joint_epochs=1", "run.gan_warmup_epochs=0",
                        "warmup.mode=SUPERVISED_SOURCE", "source.dataset=synthetic", "source.synthetic_preset=tiny",
                        "source.synthetic_seed=2", "ablation.joint_mode=CONTRAST_ONLY",
                        "ablation.contrast_only_augmentation=true"}),
      work.string(), /*resume=*/false, /*interactive=*/false);
  ASSERT_TRUE(r.report.completed()) << r.report.error();
  EXPECT_EQ(JointEpochLines(r.run_dir), 1);
}

TEST(TrainOnDevice, CudaFromALibTorchWithoutItStopsBeforeAnythingIsWritten) {
  if (c10::impl::hasDeviceGuardImpl(c10::kCUDA)) GTEST_SKIP() << "this LibTorch has CUDA";
  const fs::path work = TmpDir("device_cuda");
  const proto::TrainConfig config = TinyConfig(work, {"run.device=cuda"});
  try {
    RunTraining(config, work.string(), /*resume=*/false, /*interactive=*/false);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("TrainConfig.run.device"), std::string::npos) << what;
    EXPECT_NE(what.find("this LibTorch was built without CUDA"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(work / "runs")) << "the run folder was created before the device check";
  EXPECT_FALSE(fs::exists(work / "synth_cache")) << "the world was rendered before the device check";
}

}  // namespace
}  // namespace gcl::training

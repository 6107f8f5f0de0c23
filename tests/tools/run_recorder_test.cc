// The progress bar of //:train (tools/train/run_outputs.h RunRecorder): where it stands and what it predicts.
#include "tools/train/run_outputs.h"

#include <gtest/gtest.h>

#include <string>

namespace gcl::train {
namespace {

// Runs `batches` steps of one epoch and returns what the bar printed (one line per epoch when not interactive).
std::string Epoch(RunRecorder& recorder, proto::Phase phase, int64_t epoch, int64_t batches) {
  testing::internal::CaptureStderr();
  for (int64_t b = 0; b < batches; ++b) recorder.Step(phase, epoch, b, batches);
  return testing::internal::GetCapturedStderr();
}

TEST(RunRecorderTest, StageThreeIsReplannedFromItsRealEpochSizesSoTheBarEndsAtOneHundredPercent) {
  // Estimate from the train set: 2 warm-up + 2 joint epochs of 10 batches = 40 steps. Stage 3 trains only the
  // clustered samples: 4 batches an epoch here.
  RunRecorder recorder(testing::TempDir() + "/recorder", /*estimated_steps=*/40, /*progress_interval_s=*/0,
                       /*interactive=*/false);
  recorder.SetJointEpochs(2);
  EXPECT_NE(Epoch(recorder, proto::PHASE_WARMUP, 0, 10).find(" 25% warmup epoch 0 batch 10/10"), std::string::npos);
  EXPECT_NE(Epoch(recorder, proto::PHASE_WARMUP, 1, 10).find(" 50% warmup epoch 1 batch 10/10"), std::string::npos);
  // Joint epoch 0 starts: 20 done + 2 epochs x 4 batches = 28 steps in all.
  EXPECT_NE(Epoch(recorder, proto::PHASE_JOINT, 0, 4).find(" 85% joint epoch 0 batch 4/4"), std::string::npos);
  const std::string last = Epoch(recorder, proto::PHASE_JOINT, 1, 4);
  EXPECT_NE(last.find("100% joint epoch 1 batch 4/4"), std::string::npos) << last;
  EXPECT_NE(last.find("ETA 0:00:00"), std::string::npos) << last;
}

TEST(RunRecorderTest, ResumedRunContinuesFromTheCheckpointsStep) {
  RunRecorder recorder(testing::TempDir() + "/recorder_resumed", /*estimated_steps=*/40, /*progress_interval_s=*/0,
                       /*interactive=*/false);
  recorder.SetStepsDone(30);  // the checkpoint's global step
  const std::string line = Epoch(recorder, proto::PHASE_GAN_WARMUP, 3, 10);
  EXPECT_NE(line.find("100% gan_warmup epoch 3 batch 10/10"), std::string::npos) << line;
}

}  // namespace
}  // namespace gcl::train

// What //:train writes besides checkpoints (training/run_outputs.h): the progress bar (where it stands and what it
// predicts) and summary.json / metrics.jsonl, which must stay valid JSON whatever names and messages they carry.
#include "training/run_outputs.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

namespace gcl::training {
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

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

google::protobuf::Struct ParseJson(const std::string& json) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return parsed;
}

TEST(RunOutputsTest, SummaryAndMetricsStayValidJsonWithAwkwardNamesAndMessages) {
  const std::string run_dir = testing::TempDir() + "/awkward_outputs";
  const std::string name = "my \"best\" run \\ v2";
  const std::string error = "trainer: C:\\data\\x.jpg: \"bad\"\nsecond line\tend";
  proto::TrainConfig config;
  config.mutable_run()->set_name(name);
  proto::RunReport report;
  report.set_completed(false);
  report.set_error(error);
  proto::EpochSummary* epoch = report.add_history();
  epoch->set_phase(proto::PHASE_WARMUP);
  epoch->set_epoch(0);
  epoch->set_steps(3);
  (*epoch->mutable_mean_losses())["contrast \"main\""] = 1.25;
  (*epoch->mutable_mean_losses())["diverged"] = std::nan("");
  RunRecorder recorder(run_dir, /*estimated_steps=*/3, /*progress_interval_s=*/0, /*interactive=*/false);
  EvalRecord metrics;
  metrics.map = 0.5;
  metrics.cmc = {0.25};
  recorder.AddReference({"split \"a\"", "histogram \\ hsv", /*learned=*/false, metrics});
  WriteRunOutputs(run_dir, config, report, recorder, /*wall_seconds=*/1.5);

  const google::protobuf::Struct summary = ParseJson(ReadAll(run_dir + "/summary.json"));
  EXPECT_EQ(summary.fields().at("run").string_value(), name);
  EXPECT_EQ(summary.fields().at("error").string_value(), error);
  EXPECT_FALSE(summary.fields().at("completed").bool_value());
  const auto& reference = summary.fields().at("references").list_value().values(0).struct_value().fields();
  EXPECT_EQ(reference.at("split").string_value(), "split \"a\"");
  EXPECT_EQ(reference.at("model").string_value(), "histogram \\ hsv");
  EXPECT_EQ(reference.at("metrics").struct_value().fields().at("rank1").number_value(), 0.25);
  EXPECT_EQ(reference.at("metrics").struct_value().fields().at("rank5").kind_case(),
            google::protobuf::Value::kNullValue);  // no rank 5 measured: null, not a made-up number

  const std::string lines = ReadAll(run_dir + "/metrics.jsonl");
  ASSERT_EQ(lines.back(), '\n');
  const google::protobuf::Struct line = ParseJson(lines.substr(0, lines.size() - 1));
  const auto& losses = line.fields().at("losses").struct_value().fields();
  EXPECT_EQ(losses.at("contrast \"main\"").number_value(), 1.25);
  EXPECT_EQ(losses.at("diverged").kind_case(), google::protobuf::Value::kNullValue);
}

}  // namespace
}  // namespace gcl::training

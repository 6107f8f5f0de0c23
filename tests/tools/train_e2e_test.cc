// End to end: //tools/train:train on the tiny synthetic world (configs/tiny.pbtxt) through stage 1 (our E_id
// warm-up), stage 2 (GAN warm-up) and stage 3 (joint GCL), as a user runs it (a separate process, started the
// way `bazel run` starts it), then checks every output; a run killed after its first checkpoint, resumed; and a
// UDA run (stage 1 on a labelled source world, stages 2 and 3 on the target).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "tests/support/binary_under_test.h"
#include "tests/support/child_process.h"

namespace {

namespace fs = std::filesystem;
using gcl::testing_support::ReadFile;
using gcl::testing_support::StartChild;
using gcl::testing_support::TestTmpDir;
using gcl::testing_support::WaitForExit;

std::string g_train_binary;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

class TrainE2eTest : public ::testing::Test {
 protected:
  // A fresh working directory per test; the synthetic world is cached beside it.
  fs::path WorkDir(const std::string& name) {
    const fs::path dir = TestTmpDir() / ("train_e2e_" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
  }

  // Starts the train binary with `args`, as `bazel run` does: cwd = runfiles, BUILD_WORKING_DIRECTORY = `work`.
  pid_t Start(const fs::path& work, std::vector<std::string> args) {
    args.insert(args.begin(), g_train_binary);
    args.push_back("--set");
    args.push_back("data.cache_dir=" + (work.parent_path() / "synth_cache").string());
    args.push_back("--threads=1");
    return StartChild(std::move(args), {work / "train.log", -1, "", work});
  }

  // The checks every finished tiny run must pass.
  void ExpectCompleteOutputs(const fs::path& run) {
    // metrics.jsonl: one line per epoch of the three stages (tiny: 1 + 1 + 2), in order.
    const std::vector<std::string> lines = Lines(ReadFile(run / "metrics.jsonl"));
    ASSERT_EQ(lines.size(), 4u) << ReadFile(run / "metrics.jsonl");
    const char* phases[] = {"\"warmup\"", "\"gan_warmup\"", "\"joint\"", "\"joint\""};
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i].front(), '{');
      EXPECT_EQ(lines[i].back(), '}');
      EXPECT_NE(lines[i].find(std::string("\"phase\": ") + phases[i]), std::string::npos) << lines[i];
      EXPECT_NE(lines[i].find("\"losses\": {\""), std::string::npos) << lines[i];
      EXPECT_NE(lines[i].find("\"seconds_per_step\": "), std::string::npos) << lines[i];
    }
    EXPECT_NE(lines[0].find("\"contrast\": "), std::string::npos);   // stage 1 loss
    EXPECT_NE(lines[0].find("\"clusters\": "), std::string::npos);   // stage-1 pseudo labels
    EXPECT_NE(lines[0].find("\"label_precision\": "), std::string::npos);  // their diagnosis (true ids known)
    EXPECT_NE(lines[1].find("\"g_adversarial\": "), std::string::npos);
    EXPECT_NE(lines[1].find("\"eval\": {\"mAP\": "), std::string::npos);  // the baseline before stage 3
    for (size_t i = 2; i < 4; ++i) {
      EXPECT_NE(lines[i].find("\"vi_instance\": "), std::string::npos) << lines[i];
      EXPECT_NE(lines[i].find("\"clusters\": "), std::string::npos) << lines[i];
      EXPECT_NE(lines[i].find("\"eval\": {\"mAP\": "), std::string::npos) << lines[i];
      EXPECT_NE(lines[i].find("\"mINP\": "), std::string::npos) << lines[i];
    }
    // report.md: both rows with numbers.
    const std::string report = ReadFile(run / "report.md");
    EXPECT_NE(report.find("The run completed"), std::string::npos) << report;
    for (const std::string row : {"| warm-up baseline (E_id after stage 1) | ", "| GCL (after stage 3, last epoch) | "}) {
      const size_t at = report.find(row);
      ASSERT_NE(at, std::string::npos) << report;
      const char first = report[at + row.size()];
      EXPECT_TRUE(first >= '0' && first <= '9') << report.substr(at, 120);
    }
    // summary.json: the same rows.
    const std::string summary = ReadFile(run / "summary.json");
    EXPECT_NE(summary.find("\"completed\": true"), std::string::npos) << summary;
    EXPECT_NE(summary.find("\"baseline\": {\"phase\": \"gan_warmup\""), std::string::npos) << summary;
    EXPECT_NE(summary.find("\"gcl_last\": {\"phase\": \"joint\", \"epoch\": 1"), std::string::npos) << summary;
    // Plots and the novel-view grid (one row of 80 x 40 cells per image under an 18 px header, input + 8 angles).
    for (const std::string plot : {"map", "rank1", "clusters"}) {
      const cv::Mat png = cv::imread((run / "plots" / (plot + ".png")).string());
      EXPECT_EQ(png.rows, 400) << plot;
      EXPECT_EQ(png.cols, 640) << plot;
    }
    const cv::Mat views = cv::imread((run / "views" / "views_joint_e1.png").string());
    EXPECT_EQ(views.rows, 18 + 2 * 80);
    EXPECT_EQ(views.cols, 9 * 40);
    for (const std::string e : {"eid_stage1", "eid_final", "eid_best"}) {
      const fs::path p = run / "export" / (e + ".safetensors");
      ASSERT_TRUE(fs::exists(p)) << p;
      EXPECT_GT(fs::file_size(p), 1000u) << p;
    }
    EXPECT_NE(ReadFile(run / "config.pbtxt").find("name: \"tiny\""), std::string::npos);
    EXPECT_TRUE(fs::exists(run / "checkpoints" / "LATEST"));
  }
};

TEST_F(TrainE2eTest, TinyRunGoesThroughAllThreeStagesAndWritesEveryOutput) {
  const fs::path work = WorkDir("full");
  const int code = WaitForExit(Start(work, {"--config=tiny"}));
  ASSERT_EQ(code, 0) << ReadFile(work / "train.log");
  ExpectCompleteOutputs(work / "runs" / "tiny");
  // One process saw every clustering pass: each has its agreement with the synthetic world's true identities.
  const std::string metrics = ReadFile(work / "runs" / "tiny" / "metrics.jsonl");
  EXPECT_NE(metrics.find("\"label_recall\": "), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("\"label_recall\": null"), std::string::npos) << metrics;
}

// E_id with the MobileNetV2 backbone started from MoveNet-Thunder (fetched at build time): every stage runs and the
// exports carry the backbone.
TEST_F(TrainE2eTest, MobileNetE_idFromMoveNetTrainsThroughAllThreeStages) {
  const fs::path work = WorkDir("movenet");
  const int code = WaitForExit(
      Start(work, {"--config=tiny", "--set", "model.backbone=mobilenet_v2", "--set", "model.identity_init=movenet-thunder"}));
  ASSERT_EQ(code, 0) << ReadFile(work / "train.log");
  const fs::path run = work / "runs" / "tiny";
  ExpectCompleteOutputs(run);
  const std::string report = ReadFile(run / "report.md");
  EXPECT_NE(report.find("E_id MobileNetV2 width 1.75 (batch norm frozen) from movenet-thunder"), std::string::npos)
      << report;
  const std::string config = ReadFile(run / "config.pbtxt");
  EXPECT_NE(config.find("backbone_batch_norm: \"frozen\""), std::string::npos) << config;
  const std::string exported = ReadFile(run / "export" / "eid_final.safetensors");
  EXPECT_NE(exported.find("\"backbone\":\"mobilenet_v2\""), std::string::npos);
}

TEST_F(TrainE2eTest, RunKilledAfterItsFirstCheckpointResumesToTheEnd) {
  const fs::path work = WorkDir("resume");
  const fs::path checkpoints = work / "runs" / "tiny" / "checkpoints";
  const pid_t pid = Start(work, {"--config=tiny"});
  bool killed_mid_run = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;  // ended before a checkpoint: the test fails below
    if (fs::exists(checkpoints / "LATEST")) {
      kill(pid, SIGKILL);  // a crash: no chance to clean up
      waitpid(pid, &status, 0);
      killed_mid_run = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(killed_mid_run) << ReadFile(work / "train.log");
  EXPECT_FALSE(fs::exists(work / "runs" / "tiny" / "report.md"));  // it really stopped before the end
  const int code = WaitForExit(Start(work, {"--config=tiny", "--resume"}));
  ASSERT_EQ(code, 0) << ReadFile(work / "train.log");
  ExpectCompleteOutputs(work / "runs" / "tiny");
}

// Training images of the cached synthetic world `preset`/`seed` (its Market-style bounding_box_train/).
int64_t SyntheticTrainImages(const fs::path& cache, const std::string& preset, int seed) {
  const std::string prefix = "synth_" + preset + "_seed" + std::to_string(seed) + "_";
  for (const fs::directory_entry& world : fs::directory_iterator(cache)) {
    if (world.path().filename().string().rfind(prefix, 0) != 0) continue;
    int64_t n = 0;
    for (const fs::directory_entry& f : fs::directory_iterator(world.path() / "bounding_box_train")) {
      n += f.path().extension() == ".jpg";
    }
    return n;
  }
  return -1;
}

// The step count of metrics.jsonl line `line` ("steps": N).
int64_t StepsOf(const std::string& line) {
  const std::string key = "\"steps\": ";
  const size_t at = line.find(key);
  return at == std::string::npos ? -1 : std::stoll(line.substr(at + key.size()));
}

TEST_F(TrainE2eTest, UdaRunWarmsUpOnTheLabelledSourceThenTrainsAndEvaluatesOnTheTarget) {
  // The tiny config in UDA mode: stage 1 on another tiny world (seed 2) with its identity labels, stages 2 and 3
  // on the tiny target (seed 1).
  const fs::path work = WorkDir("uda");
  const int code = WaitForExit(Start(work, {"--config=tiny", "--name=uda_tiny", "--set", "warmup.mode=SUPERVISED_SOURCE",
                                     "--set", "source.dataset=synthetic", "--set", "source.synthetic_preset=tiny",
                                     "--set", "source.synthetic_seed=2"}));
  ASSERT_EQ(code, 0) << ReadFile(work / "train.log");
  const fs::path run = work / "runs" / "uda_tiny";
  const fs::path cache = work.parent_path() / "synth_cache";
  const int64_t source_images = SyntheticTrainImages(cache, "tiny", 2);
  const int64_t target_images = SyntheticTrainImages(cache, "tiny", 1);
  ASSERT_GT(source_images, 0) << "the source world is not in " << cache << " (source.cache_dir = data.cache_dir)";
  ASSERT_GT(target_images, 0);
  // Stage 1 iterated the source (batch 4, drop_last), stage 2 the whole target.
  ASSERT_NE(source_images / 4, target_images / 4) << "pick worlds whose epochs differ, or this proves nothing";
  const std::vector<std::string> lines = Lines(ReadFile(run / "metrics.jsonl"));
  ASSERT_EQ(lines.size(), 4u) << ReadFile(run / "metrics.jsonl");
  EXPECT_NE(lines[0].find("\"phase\": \"warmup\""), std::string::npos) << lines[0];
  EXPECT_EQ(StepsOf(lines[0]), source_images / 4) << lines[0];
  EXPECT_EQ(StepsOf(lines[1]), target_images / 4) << lines[1];
  EXPECT_NE(lines[0].find("\"contrast\": "), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("\"clusters\": "), std::string::npos) << lines[0];  // true labels: no clustering
  // Stage 3 trained on the clustered target samples: at most the target's batches.
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_NE(lines[i].find("\"vi_instance\": "), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find("\"eval\": {\"mAP\": "), std::string::npos) << lines[i];
    EXPECT_GT(StepsOf(lines[i]), 0) << lines[i];
    EXPECT_LE(StepsOf(lines[i]), target_images / 4) << lines[i];
  }
  // The report names the setting; its first row is the direct-transfer result on the target.
  const std::string report = ReadFile(run / "report.md");
  EXPECT_NE(report.find("UDA: stage 1 supervised on the labelled source synthetic (preset tiny, seed 2)"),
            std::string::npos)
      << report;
  for (const std::string row : {"| direct transfer (E_id after stage 1 on the source) | ",
                                "| GCL (after stage 3, last epoch) | "}) {
    const size_t at = report.find(row);
    ASSERT_NE(at, std::string::npos) << report;
    const char first = report[at + row.size()];
    EXPECT_TRUE(first >= '0' && first <= '9') << report.substr(at, 120);
  }
  const std::string summary = ReadFile(run / "summary.json");
  EXPECT_NE(summary.find("\"completed\": true"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"setting\": \"uda\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"baseline\": {\"phase\": \"gan_warmup\""), std::string::npos) << summary;
  for (const std::string e : {"eid_stage1", "eid_final", "eid_best"}) {
    EXPECT_TRUE(fs::exists(run / "export" / (e + ".safetensors"))) << e;
  }
  const std::string config = ReadFile(run / "config.pbtxt");
  EXPECT_NE(config.find("mode: SUPERVISED_SOURCE"), std::string::npos) << config;
  EXPECT_NE(config.find("synthetic_seed: 2"), std::string::npos) << config;
}

}  // namespace

int main(int argc, char** argv) { return gcl::testing_support::RunTestsOfBinary(argc, argv, &g_train_binary); }

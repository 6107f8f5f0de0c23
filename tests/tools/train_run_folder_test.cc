// Run folders are never lost or mixed (//tools/train:train as a user runs it): a fresh run into a used name is
// refused unless --overwrite, a second process on the same folder is refused, --resume without a checkpoint is an
// error, a corrupt newest checkpoint falls back to the newest valid one, a resume onto other data is refused with
// both sides named, and nothing in the folder is rewritten when a resume is refused or its restore fails. Also:
// a trainer that cannot be built (a corrupt model.identity_init, an unknown device) stops the run with the real
// cause in report.md and on stderr.
//
// One tiny run to the end is the base; every test works on its own copy of it.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/binary_under_test.h"
#include "tests/support/child_process.h"

namespace {

namespace fs = std::filesystem;
using gcl::testing_support::ReadFile;
using gcl::testing_support::StartChild;
using gcl::testing_support::TestTmpDir;
using gcl::testing_support::WaitForExit;

std::string g_train_binary;

fs::path Cache() { return TestTmpDir() / "run_folder_synth_cache"; }
fs::path BaseWork() { return TestTmpDir() / "run_folder_base"; }

// Runs the train binary as `bazel run` does (BUILD_WORKING_DIRECTORY = work); returns its exit code. The output
// goes to work/<log>.
int Train(const fs::path& work, std::vector<std::string> args, const std::string& log = "train.log") {
  args.insert(args.begin(), g_train_binary);
  args.push_back("--set");
  args.push_back("data.cache_dir=" + Cache().string());
  args.push_back("--threads=1");
  std::error_code ignored;
  fs::remove(work / log, ignored);
  return WaitForExit(StartChild(std::move(args), {work / log, -1, "", work}));
}

// Every file of a run folder but its lock file, by relative path: what "nothing was changed" compares.
std::map<std::string, std::string> Snapshot(const fs::path& run) {
  std::map<std::string, std::string> files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(run)) {
    if (!e.is_regular_file() || e.path().filename() == ".lock") continue;
    files[fs::relative(e.path(), run).string()] = ReadFile(e.path());
  }
  return files;
}

size_t LineCount(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

class TrainRunFolderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(BaseWork());
    fs::create_directories(BaseWork());
    base_exit_ = Train(BaseWork(), {"--config=tiny"});
  }

  void SetUp() override { ASSERT_EQ(base_exit_, 0) << ReadFile(BaseWork() / "train.log"); }

  // A copy of the finished base run's working folder.
  fs::path CopyOfBase(const std::string& name) {
    const fs::path work = TestTmpDir() / ("run_folder_" + name);
    fs::remove_all(work);
    fs::copy(BaseWork(), work, fs::copy_options::recursive);
    return work;
  }

  static inline int base_exit_ = -1;
};

TEST_F(TrainRunFolderTest, FreshRunIntoAUsedNameIsRefusedAndChangesNothing) {
  const fs::path work = CopyOfBase("used_name");
  const fs::path run = work / "runs" / "tiny";
  const auto before = Snapshot(run);
  EXPECT_EQ(Train(work, {"--config=tiny"}), 2);
  const std::string log = ReadFile(work / "train.log");
  EXPECT_NE(log.find("already holds a run"), std::string::npos) << log;
  EXPECT_NE(log.find("--overwrite"), std::string::npos) << log;
  EXPECT_TRUE(Snapshot(run) == before) << "the earlier run's files changed";
}

TEST_F(TrainRunFolderTest, OverwriteReplacesTheEarlierRunWhole) {
  const fs::path work = CopyOfBase("overwrite");
  const fs::path run = work / "runs" / "tiny";
  std::ofstream(run / "left_over.txt") << "from the earlier run\n";
  ASSERT_EQ(Train(work, {"--config=tiny", "--overwrite", "--set", "run.gan_warmup_epochs=0", "--set",
                         "run.joint_epochs=0"}),
            0)
      << ReadFile(work / "train.log");
  EXPECT_FALSE(fs::exists(run / "left_over.txt"));
  EXPECT_FALSE(fs::exists(run / "views" / "views_joint_e1.png"));  // nothing of the earlier run is mixed in
  EXPECT_EQ(LineCount(ReadFile(run / "metrics.jsonl")), 1u);       // the new run's one warm-up epoch
  EXPECT_EQ(ReadFile(run / "config.pbtxt").find("joint_epochs: 2"), std::string::npos);  // the new run's config
}

TEST_F(TrainRunFolderTest, FreshRunThatFailsBeforeItStartsLeavesNoFolderBehind) {
  const fs::path work = CopyOfBase("failed_start");
  const fs::path missing = work / "no_such_dataset";
  EXPECT_EQ(Train(work, {"--config=tiny", "--name=typo", "--set", "data.dataset=market1501", "--set",
                         "data.root=" + missing.string(), "--set", "data.mesh_dir=" + missing.string()}),
            2);
  EXPECT_NE(ReadFile(work / "train.log").find(missing.string()), std::string::npos) << ReadFile(work / "train.log");
  EXPECT_FALSE(fs::exists(work / "runs" / "typo")) << "the corrected command would find the name used";
}

TEST_F(TrainRunFolderTest, SecondProcessOnTheSameRunFolderIsRefused) {
  const fs::path work = CopyOfBase("locked");
  const fs::path run = work / "runs" / "tiny";
  const auto before = Snapshot(run);
  // This test process plays the run in progress: it holds the folder's lock as a running train does.
  const int fd = open((run / ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(Train(work, {"--config=tiny", "--resume"}), 2);
  EXPECT_EQ(Train(work, {"--config=tiny", "--overwrite"}, "train2.log"), 2);
  close(fd);
  const std::string log = ReadFile(work / "train.log") + ReadFile(work / "train2.log");
  EXPECT_NE(log.find("is in use by another process"), std::string::npos) << log;
  EXPECT_TRUE(Snapshot(run) == before);
}

TEST_F(TrainRunFolderTest, ResumeOfAMistypedNameIsAnErrorThatCreatesNothing) {
  const fs::path work = CopyOfBase("mistyped");
  EXPECT_EQ(Train(work, {"--config=tiny", "--name=tyni", "--resume"}), 2);
  const std::string log = ReadFile(work / "train.log");
  EXPECT_NE(log.find("there is no run folder"), std::string::npos) << log;
  EXPECT_NE(log.find(": tiny"), std::string::npos) << "the existing run is named: " << log;
  EXPECT_FALSE(fs::exists(work / "runs" / "tyni"));
}

TEST_F(TrainRunFolderTest, ResumeWithoutACheckpointIsAnErrorThatChangesNothing) {
  const fs::path work = CopyOfBase("no_latest");
  const fs::path run = work / "runs" / "tiny";
  fs::remove_all(run / "checkpoints");
  const auto before = Snapshot(run);
  EXPECT_EQ(Train(work, {"--config=tiny", "--resume"}), 2);
  const std::string log = ReadFile(work / "train.log");
  EXPECT_NE(log.find("has no checkpoint"), std::string::npos) << log;
  EXPECT_TRUE(Snapshot(run) == before) << "metrics, reports or config were rewritten";
  EXPECT_FALSE(fs::exists(run / "checkpoints"));
}

TEST_F(TrainRunFolderTest, CorruptNewestCheckpointFallsBackToTheNewestValidOneAndSaysSo) {
  const fs::path work = CopyOfBase("corrupt_newest");
  const fs::path checkpoints = work / "runs" / "tiny" / "checkpoints";
  std::string newest = ReadFile(checkpoints / "LATEST");
  while (!newest.empty() && newest.back() == '\n') newest.pop_back();
  ASSERT_FALSE(newest.empty());
  const std::string bytes = ReadFile(checkpoints / newest);
  std::ofstream(checkpoints / newest, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  ASSERT_EQ(Train(work, {"--config=tiny", "--resume"}), 0) << ReadFile(work / "train.log");
  const std::string log = ReadFile(work / "train.log");
  EXPECT_NE(log.find("skipping " + (checkpoints / newest).string()), std::string::npos) << log;
  EXPECT_NE(log.find("resuming from the newest valid checkpoint"), std::string::npos) << log;
  const fs::path run = work / "runs" / "tiny";
  EXPECT_EQ(LineCount(ReadFile(run / "metrics.jsonl")), 4u) << "the whole run's epochs, the replayed one included";
  const std::string report = ReadFile(run / "report.md");
  EXPECT_NE(report.find("The run completed"), std::string::npos) << report;
  EXPECT_NE(report.find("resumed from the newest valid one"), std::string::npos) << report;
}

TEST_F(TrainRunFolderTest, ResumeOntoOtherDataIsRefusedNamingBothSidesAndChangesNothing) {
  const fs::path work = CopyOfBase("other_data");
  const fs::path run = work / "runs" / "tiny";
  const auto before = Snapshot(run);
  // Another tiny world (seed 2): other images, another count.
  EXPECT_EQ(Train(work, {"--config=tiny", "--resume", "--set", "data.synthetic_seed=2"}), 2);
  const std::string log = ReadFile(work / "train.log");
  EXPECT_NE(log.find("--resume refused: the checkpoint was trained on "), std::string::npos) << log;
  EXPECT_NE(log.find("synth_tiny_seed1"), std::string::npos) << log;
  EXPECT_NE(log.find("but this run's data is "), std::string::npos) << log;
  EXPECT_NE(log.find("synth_tiny_seed2"), std::string::npos) << log;
  EXPECT_EQ(log.find("out of range"), std::string::npos) << log;
  EXPECT_TRUE(Snapshot(run) == before) << "metrics, reports or config were rewritten";
}

TEST_F(TrainRunFolderTest, FailedRestoreLeavesTheRunFolderAsItWas) {
  const fs::path work = CopyOfBase("failed_restore");
  const fs::path run = work / "runs" / "tiny";
  const auto before = Snapshot(run);
  // A generator twice as wide: the checkpoint's G does not fit, so the trainer's restore fails.
  EXPECT_EQ(Train(work, {"--config=tiny", "--resume", "--set", "model.generator_dim=8"}), 2);
  const std::string log = ReadFile(work / "train.log");
  EXPECT_NE(log.find("--resume failed before training continued"), std::string::npos) << log;
  EXPECT_NE(log.find("'G'"), std::string::npos) << "the network that does not fit is named: " << log;
  EXPECT_TRUE(Snapshot(run) == before) << "metrics, reports or config were rewritten";
}

TEST_F(TrainRunFolderTest, CorruptIdentityInitStopsTheRunWithTheFileAndTheProblem) {
  const fs::path work = CopyOfBase("bad_init");
  const fs::path bad = work / "broken.pth";
  std::ofstream(bad, std::ios::binary) << "PK\x03\x04 this is not a torch.save file";
  EXPECT_EQ(Train(work, {"--config=tiny", "--name=bad_init", "--set", "model.identity_init=" + bad.string()}), 1);
  const std::string log = ReadFile(work / "train.log");
  const std::string report = ReadFile(work / "runs" / "bad_init" / "report.md");
  const std::string summary = ReadFile(work / "runs" / "bad_init" / "summary.json");
  EXPECT_NE(log.find("train: the run stopped: trainer: cannot start: "), std::string::npos) << log;
  EXPECT_NE(log.find(bad.string()), std::string::npos) << log;
  EXPECT_NE(report.find(bad.string()), std::string::npos) << report;
  EXPECT_NE(summary.find("\"completed\": false"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"error\": \"trainer: cannot start: "), std::string::npos) << summary;
  EXPECT_NE(summary.find(bad.string()), std::string::npos) << summary;
  for (const std::string& text : {log, report}) EXPECT_EQ(text.find("code 3"), std::string::npos) << text;
}

TEST_F(TrainRunFolderTest, UnknownDeviceIsNamedNotACafErrorCode) {
  const fs::path work = CopyOfBase("device");
  EXPECT_NE(Train(work, {"--config=tiny", "--name=device", "--set", "run.device=tpu"}), 0);
  const std::string log = ReadFile(work / "train.log");
  EXPECT_NE(log.find("\"tpu\""), std::string::npos) << log;
  EXPECT_EQ(log.find("code 3"), std::string::npos) << log;
  const fs::path report = work / "runs" / "device" / "report.md";
  if (fs::exists(report)) {  // a config check may refuse the device before any run folder exists
    EXPECT_NE(ReadFile(report).find("\"tpu\""), std::string::npos) << ReadFile(report);
    EXPECT_EQ(ReadFile(report).find("code 3"), std::string::npos) << ReadFile(report);
  }
}

}  // namespace

int main(int argc, char** argv) { return gcl::testing_support::RunTestsOfBinary(argc, argv, &g_train_binary); }

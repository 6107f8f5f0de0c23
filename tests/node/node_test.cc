// Distributed training over loopback, as users run it: two worker processes of //tools/node:node and a coordinator
// process run a two-dataset "train" job (configs/tiny.pbtxt on two synthetic worlds, seeds 1 and 2) and gather
// both results into report.json / report.md; a worker killed with SIGKILL mid-run is detected and its job re-runs
// on the other worker, or is reported lost when no worker is left; a job with missing data fails with its cause.
// The worker's own checks: a job whose run folder or inputs lie outside the worker's folders is refused; nodes
// without a usable secret refuse to start; feature files that would write one labels file are refused.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <google/protobuf/util/json_util.h>
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

#include "proto/train_job.pb.h"
#include "tests/support/binary_under_test.h"
#include "tests/support/child_process.h"

namespace {

namespace fs = std::filesystem;
using gcl::testing_support::ReadFile;
using gcl::testing_support::StartChild;

std::string g_node_binary;

// Reads one line from `fd` within `timeout_ms`; "" on timeout or end of file.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char ch;
    if (read(fd, &ch, 1) != 1) return "";
    if (ch == '\n') return line;
    line += ch;
  }
}

// Starts the node binary with `args`; stdout goes to `out_fd` (a pipe's write end) or `log`, stderr to `log`.
pid_t Spawn(std::vector<std::string> args, const fs::path& log, int out_fd) {
  args.insert(args.begin(), g_node_binary);
  return StartChild(std::move(args), {log, out_fd, "", {}});
}

struct Worker {
  pid_t pid = -1;
  int out = -1;
  uint16_t port = 0;
  fs::path work_dir;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

class NodeTest : public ::testing::Test {
 protected:
  NodeTest() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(tmp ? tmp : "/tmp") / (std::string("node_test_") + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~NodeTest() override {
    for (Worker& w : workers_) Kill(w);
  }

  Worker& StartWorker() {
    Worker w;
    w.work_dir = dir_ / ("worker" + std::to_string(workers_.size() + 1));
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    // The test's folder (missing-data cases) and the shared synthetic-world cache are the worker's data roots.
    w.pid = Spawn({"--role=worker", "--port=0", "--threads=1", "--work_dir=" + w.work_dir.string(),
                   "--data_roots=" + dir_.string() + "," + (dir_.parent_path() / "synth_cache").string()},
                  dir_ / ("worker" + std::to_string(workers_.size() + 1) + ".log"), fds[1]);
    close(fds[1]);
    w.out = fds[0];
    const std::string line = ReadLine(w.out, 30000);
    if (line.rfind("port ", 0) == 0) w.port = static_cast<uint16_t>(std::stoi(line.substr(5)));
    EXPECT_NE(w.port, 0) << "worker did not start: " << line;
    workers_.push_back(w);
    return workers_.back();
  }

  static void Kill(Worker& w) {
    if (w.pid > 0) {
      kill(w.pid, SIGKILL);
      waitpid(w.pid, nullptr, 0);
      w.pid = -1;
    }
    if (w.out >= 0) close(w.out);
    w.out = -1;
  }

  // The coordinator's arguments for `jobs` ("--job=NAME" and that job's "--set=..." flags) on every worker.
  pid_t StartCoordinator(const std::vector<std::string>& jobs, int max_attempts) {
    std::string workers;
    for (const Worker& w : workers_) workers += (workers.empty() ? "" : ",") + w.address();
    std::vector<std::string> args = {"--role=coordinator",
                                     "--workers=" + workers,
                                     "--max_attempts=" + std::to_string(max_attempts),
                                     "--job_timeout_s=120",
                                     "--out_dir=" + (dir_ / "gathered").string(),
                                     "--config=" + fs::absolute("configs/tiny.pbtxt").string(),
                                     "--set=data.cache_dir=" + (dir_.parent_path() / "synth_cache").string(),
                                     // Stages 1, 2 and one epoch of stage 3: every row of the final table, in seconds.
                                     "--set=run.joint_epochs=1"};
    args.insert(args.end(), jobs.begin(), jobs.end());
    return Spawn(args, dir_ / "coordinator.log", -1);
  }

  // Waits for the coordinator's exit code; -1 when it did not end within `seconds` (it is then killed).
  int Wait(pid_t pid, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return -1;
  }

  // Polls until `path` exists (a run folder appears as soon as the worker starts the job).
  static bool AwaitPath(const fs::path& path, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (fs::exists(path)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  gcl::proto::TrainJobsReport Gathered() {
    gcl::proto::TrainJobsReport report;
    const std::string json = ReadFile(dir_ / "gathered" / "report.json");
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &report).ok()) << json;
    return report;
  }

  std::string Log() { return ReadFile(dir_ / "coordinator.log"); }

  const gcl::proto::TrainJobRow* Row(const gcl::proto::TrainJobsReport& report, const std::string& job) {
    for (const auto& row : report.rows()) {
      if (row.job() == job) return &row;
    }
    return nullptr;
  }

  // A completed tiny run: both final-table evaluations present and in range, its folder on the worker.
  void ExpectDone(const gcl::proto::TrainJobRow& row, const std::string& dataset) {
    EXPECT_EQ(row.status(), "done") << row.error();
    EXPECT_EQ(row.dataset(), dataset);
    EXPECT_TRUE(row.error().empty()) << row.error();
    ASSERT_TRUE(row.has_baseline());
    ASSERT_TRUE(row.has_gcl_last());
    ASSERT_TRUE(row.has_gcl_best());
    for (const auto* m : {&row.baseline(), &row.gcl_last(), &row.gcl_best()}) {
      EXPECT_GT(m->map(), 0.0);
      EXPECT_LE(m->map(), 1.0);
      EXPECT_GE(m->rank1(), 0.0);
      EXPECT_LE(m->rank1(), 1.0);
    }
    EXPECT_GE(row.gcl_best().map(), row.gcl_last().map());
  EXPECT_EQ(row.gcl_last().epoch(), 0);  // run.joint_epochs=1
    EXPECT_GT(row.global_step(), 0);
    EXPECT_GT(row.seconds(), 0.0);
    EXPECT_TRUE(fs::exists(fs::path(row.run_dir()) / "report.md")) << row.run_dir();
    EXPECT_TRUE(fs::exists(fs::path(row.run_dir()) / "summary.json")) << row.run_dir();
    EXPECT_EQ(fs::path(row.run_dir()).filename(), row.job());
  }

  fs::path dir_;
  std::vector<Worker> workers_;
};

TEST_F(NodeTest, TwoDatasetsOnTwoWorkerProcessesGiveBothResults) {
  workers_.reserve(2);
  StartWorker();
  StartWorker();
  const pid_t coordinator = StartCoordinator(
      {"--job=world1", "--set=data.synthetic_seed=1", "--job=world2", "--set=data.synthetic_seed=2"}, 2);
  ASSERT_EQ(Wait(coordinator, 90), 0) << Log();
  const gcl::proto::TrainJobsReport report = Gathered();
  ASSERT_EQ(report.rows_size(), 2);
  EXPECT_EQ(report.workers_size(), 2);
  EXPECT_EQ(report.lost_workers_size(), 0);
  ExpectDone(report.rows(0), "synthetic (tiny world, seed 1)");
  ExpectDone(report.rows(1), "synthetic (tiny world, seed 2)");
  EXPECT_EQ(report.rows(0).job(), "world1");
  EXPECT_EQ(report.rows(1).job(), "world2");
  for (const auto& row : report.rows()) EXPECT_EQ(row.attempts(), 1);
  // Both workers were idle at the start, so each ran one dataset, into its own work folder.
  EXPECT_NE(report.rows(0).worker(), report.rows(1).worker());
  EXPECT_TRUE(fs::exists(workers_[0].work_dir / "runs" / "world1" / "report.md"));
  EXPECT_TRUE(fs::exists(workers_[1].work_dir / "runs" / "world2" / "report.md"));
  // Two different worlds give two different runs.
  EXPECT_NE(report.rows(0).baseline().map(), report.rows(1).baseline().map());
  const std::string md = ReadFile(dir_ / "gathered" / "report.md");
  EXPECT_NE(md.find("| world1 | synthetic (tiny world, seed 1) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| world2 | synthetic (tiny world, seed 2) |"), std::string::npos) << md;
  EXPECT_NE(Log().find("| world2 |"), std::string::npos) << "the coordinator prints report.md";
}

TEST_F(NodeTest, WorkerKilledMidRunIsDetectedAndItsJobRerunsOnTheOther) {
  workers_.reserve(2);
  StartWorker();
  Worker& doomed = StartWorker();
  const std::string doomed_address = doomed.address();
  const pid_t coordinator = StartCoordinator(
      {"--job=world1", "--set=data.synthetic_seed=1", "--job=world2", "--set=data.synthetic_seed=2"}, 2);
  // The dispatcher hands the second job to the second worker; its run folder appears when the run starts.
  ASSERT_TRUE(AwaitPath(doomed.work_dir / "runs" / "world2", 60)) << Log();
  Kill(doomed);
  ASSERT_EQ(Wait(coordinator, 90), 0) << Log();
  const gcl::proto::TrainJobsReport report = Gathered();
  ASSERT_EQ(report.lost_workers_size(), 1);
  EXPECT_EQ(report.lost_workers(0).rfind(doomed_address, 0), 0u) << report.lost_workers(0);
  ASSERT_EQ(report.rows_size(), 2);
  ExpectDone(report.rows(0), "synthetic (tiny world, seed 1)");
  ExpectDone(report.rows(1), "synthetic (tiny world, seed 2)");
  EXPECT_EQ(report.rows(0).attempts(), 1);
  EXPECT_EQ(report.rows(1).attempts(), 2);
  EXPECT_EQ(report.rows(1).worker(), workers_[0].address());
  EXPECT_TRUE(fs::exists(workers_[0].work_dir / "runs" / "world2" / "report.md"));
  EXPECT_NE(ReadFile(dir_ / "gathered" / "report.md").find(doomed_address), std::string::npos) << "lost worker listed";
}

TEST_F(NodeTest, JobIsReportedLostWhenNoWorkerIsLeft) {
  Worker& only = StartWorker();
  const pid_t coordinator = StartCoordinator({"--job=world1", "--set=data.synthetic_seed=1"}, 2);
  ASSERT_TRUE(AwaitPath(only.work_dir / "runs" / "world1", 60)) << Log();
  Kill(only);
  EXPECT_EQ(Wait(coordinator, 30), 1) << Log();
  const gcl::proto::TrainJobsReport report = Gathered();
  ASSERT_EQ(report.rows_size(), 1);
  EXPECT_EQ(report.rows(0).status(), "lost");
  EXPECT_EQ(report.rows(0).attempts(), 1);  // re-queued for a second try, but no worker was left to make it
  EXPECT_TRUE(report.rows(0).worker().empty());
  EXPECT_FALSE(report.rows(0).has_gcl_last());
  EXPECT_EQ(report.lost_workers_size(), 1);
}

TEST_F(NodeTest, JobWithMissingDataFailsOnItsWorkerWithTheCause) {
  StartWorker();
  const fs::path missing = dir_ / "no_such_dataset";
  const pid_t coordinator =
      StartCoordinator({"--job=market", "--set=data.dataset=market1501", "--set=data.root=" + missing.string(),
                        "--set=data.mesh_dir=" + (missing / "mesh").string()}, 2);
  EXPECT_EQ(Wait(coordinator, 30), 1) << Log();
  const gcl::proto::TrainJobsReport report = Gathered();
  ASSERT_EQ(report.rows_size(), 1);
  const gcl::proto::TrainJobRow& row = report.rows(0);
  EXPECT_EQ(row.status(), "failed");
  EXPECT_EQ(row.attempts(), 1);  // a job that throws is not retried: the same input would fail again
  EXPECT_EQ(row.worker(), workers_[0].address());
  EXPECT_NE(row.error().find(missing.string()), std::string::npos) << row.error();
  EXPECT_EQ(report.lost_workers_size(), 0);
}

TEST_F(NodeTest, BadArgumentsAreRefusedBeforeAnyWorkIsHandedOut) {
  const pid_t unknown = Spawn({"--role=coordinator", "--workers=127.0.0.1:1", "--job=a", "--set=run.no_such=1"},
                              dir_ / "coordinator.log", -1);
  EXPECT_EQ(Wait(unknown, 30), 2);
  EXPECT_NE(Log().find("job 'a'"), std::string::npos) << Log();
  const pid_t twice =
      Spawn({"--role=coordinator", "--workers=127.0.0.1:1", "--job=a", "--job=a"}, dir_ / "coordinator.log", -1);
  EXPECT_EQ(Wait(twice, 30), 2);
  EXPECT_NE(Log().find("--job=a is given twice"), std::string::npos) << Log();
}

TEST_F(NodeTest, WorkerRefusesJobsThatReachOutsideItsFolders) {
  StartWorker();
  const fs::path outside = dir_ / "outside_runs";
  const pid_t coordinator = StartCoordinator(
      {"--job=escape", "--set=run.output_dir=" + outside.string(), "--job=peek", "--set=model.identity_init=/etc/hostname"},
      1);
  EXPECT_EQ(Wait(coordinator, 60), 1) << Log();
  const gcl::proto::TrainJobsReport report = Gathered();
  ASSERT_EQ(report.rows_size(), 2) << Log();
  for (const auto& row : report.rows()) {
    EXPECT_EQ(row.status(), "failed") << row.job();
    EXPECT_NE(row.error().find("refused by this worker"), std::string::npos) << row.error();
  }
  EXPECT_NE(Row(report, "escape")->error().find("outside its --work_dir"), std::string::npos);
  EXPECT_NE(Row(report, "peek")->error().find("model.identity_init"), std::string::npos);
  EXPECT_FALSE(fs::exists(outside)) << "the worker wrote a run outside its --work_dir";
}

TEST_F(NodeTest, FeatureFilesThatShareANameAreRefusedBeforeAnyWork) {
  // Two real feature files a/x.npy and b/x.npy: both labels would go to <out_dir>/x.labels.txt.
  for (const std::string sub : {"a", "b"}) {
    fs::create_directories(dir_ / sub);
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    header.append(128 - 10 - header.size() - 1, ' ');  // the 10-byte preamble + header: 128 bytes
    header += '\n';
    std::ofstream npy(dir_ / sub / "x.npy", std::ios::binary);
    npy << "\x93NUMPY" << '\x01' << '\x00' << static_cast<char>(header.size()) << '\x00' << header;
    const float values[4] = {1, 0, 0, 1};
    npy.write(reinterpret_cast<const char*>(values), sizeof values);
  }
  const pid_t coordinator =
      Spawn({"--role=coordinator", "--workers=127.0.0.1:1", "--out_dir=" + (dir_ / "labels").string(),
             "--features=" + (dir_ / "a" / "x.npy").string() + "," + (dir_ / "b" / "x.npy").string()},
            dir_ / "coordinator.log", -1);
  EXPECT_EQ(Wait(coordinator, 30), 2) << Log();
  EXPECT_NE(Log().find("have the same name 'x'"), std::string::npos) << Log();
}

TEST_F(NodeTest, NodesWithoutAUsableSecretRefuseToStart) {
  const std::string secret = std::getenv("GCL_NODE_SECRET");
  unsetenv("GCL_NODE_SECRET");  // the children started now inherit no secret
  const pid_t worker = Spawn({"--role=worker", "--port=0", "--work_dir=" + (dir_ / "w").string()}, dir_ / "w.log", -1);
  const pid_t coordinator = Spawn({"--role=coordinator", "--workers=127.0.0.1:1", "--job=a"}, dir_ / "coordinator.log", -1);
  const fs::path open_file = dir_ / "secret.txt";
  std::ofstream(open_file) << secret << "\n";
  fs::permissions(open_file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  const pid_t readable = Spawn({"--role=worker", "--port=0", "--work_dir=" + (dir_ / "w").string(),
                                "--secret_file=" + open_file.string()},
                               dir_ / "w2.log", -1);
  setenv("GCL_NODE_SECRET", secret.c_str(), 1);
  EXPECT_EQ(Wait(worker, 30), 2) << ReadFile(dir_ / "w.log");
  EXPECT_EQ(Wait(coordinator, 30), 2) << Log();
  EXPECT_EQ(Wait(readable, 30), 2) << ReadFile(dir_ / "w2.log");
  EXPECT_NE(ReadFile(dir_ / "w.log").find("no node secret"), std::string::npos) << ReadFile(dir_ / "w.log");
  EXPECT_NE(Log().find("no node secret"), std::string::npos) << Log();
  EXPECT_NE(ReadFile(dir_ / "w2.log").find("chmod 600"), std::string::npos) << ReadFile(dir_ / "w2.log");
}

}  // namespace

int main(int argc, char** argv) {
  // Every node these tests start shares this secret (children inherit the environment).
  setenv("GCL_NODE_SECRET", "node_test shared secret of the job", 1);
  return gcl::testing_support::RunTestsOfBinary(argc, argv, &g_node_binary);
}

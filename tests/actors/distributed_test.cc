// Distribution over loopback: two worker processes (test_worker) and a coordinator node in this process run a
// two-dataset job and gather both results; a worker killed with SIGKILL mid-job is detected and its job re-queued
// on the other worker, or reported lost when no try is left.
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "actors/distributed.h"
#include "actors/protocol.h"
#include "actors/run_config.h"
#include "tests/actors/fake_backends.h"

namespace gcl::actors {
namespace {

using testing::FloatTensor;
using testing::ToyCluster;

// A worker process and the read end of its stdout.
struct WorkerProcess {
  pid_t pid = -1;
  int out = -1;
  uint16_t port = 0;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

// Reads one line from `fd` within `timeout_ms`; "" on timeout or end of file.
std::string ReadLine(int fd, int timeout_ms) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) return "";
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) return "";
    char ch;
    if (read(fd, &ch, 1) != 1) return "";
    if (ch == '\n') return line;
    line += ch;
  }
}

std::string WorkerBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (!srcdir || !workspace) return "tests/actors/test_worker";
  return std::string(srcdir) + "/" + workspace + "/tests/actors/test_worker";
}

WorkerProcess StartWorker(int delay_ms) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  const std::string binary = WorkerBinary();
  const std::string delay = "--delay_ms=" + std::to_string(delay_ms);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execl(binary.c_str(), binary.c_str(), delay.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipe_fds[1]);
  WorkerProcess w;
  w.pid = pid;
  w.out = pipe_fds[0];
  const std::string line = ReadLine(w.out, 20000);
  if (line.rfind("port ", 0) == 0) w.port = static_cast<uint16_t>(std::stoi(line.substr(5)));
  return w;
}

void Kill(WorkerProcess& w) {
  if (w.pid > 0) {
    kill(w.pid, SIGKILL);
    waitpid(w.pid, nullptr, 0);
    w.pid = -1;
  }
  if (w.out >= 0) close(w.out);
  w.out = -1;
}

proto::JobSpec BankJob(const std::string& id, int64_t rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(static_cast<size_t>(rows * 4));
  for (float& v : values) v = normal(rng);
  proto::BankSnapshot bank;
  bank.set_version(kActorProtocolVersion);
  *bank.mutable_features() = FloatTensor({rows, 4}, values);
  proto::JobSpec job;
  job.set_version(kActorProtocolVersion);
  job.set_job_id(id);
  job.set_kind("toy_cluster");
  job.set_attempt(1);
  job.set_payload(bank.SerializeAsString());
  return job;
}

// The labels the job must produce, computed here.
std::vector<int64_t> ExpectedLabels(const proto::JobSpec& job) {
  proto::BankSnapshot bank;
  bank.ParseFromString(job.payload());
  const proto::PseudoLabels labels = ToyCluster{}(bank, proto::RunConfig{});
  return {labels.labels().begin(), labels.labels().end()};
}

std::vector<int64_t> Labels(const proto::JobResult& result) {
  proto::PseudoLabels labels;
  EXPECT_TRUE(labels.ParseFromString(result.payload()));
  return {labels.labels().begin(), labels.labels().end()};
}

class DistributedTest : public ::testing::Test {
 protected:
  struct Config : caf::actor_system_config {
    Config() {
      AddProtocolTypes(*this);
      load<caf::io::middleman>();
    }
  };
  DistributedTest() : system_(cfg_) {}
  ~DistributedTest() override {
    for (WorkerProcess& w : workers_) Kill(w);
  }
  WorkerProcess& Start(int delay_ms) {
    workers_.push_back(StartWorker(delay_ms));
    EXPECT_NE(workers_.back().port, 0) << "worker did not start";
    return workers_.back();
  }
  proto::ClusterConfig Cluster(int max_attempts) {
    proto::ClusterConfig c;
    for (const WorkerProcess& w : workers_) c.add_workers(w.address());
    c.set_max_attempts(max_attempts);
    c.set_job_timeout_s(30);
    return ResolveClusterConfig(c);
  }
  Config cfg_;
  caf::actor_system system_;
  std::vector<WorkerProcess> workers_;
};

const proto::JobResult* Find(const proto::JobReport& report, const std::string& id) {
  for (const proto::JobResult& r : report.results()) {
    if (r.job_id() == id) return &r;
  }
  return nullptr;
}

TEST_F(DistributedTest, TwoDatasetsOnTwoWorkersGiveBothResults) {
  workers_.reserve(2);
  Start(300);
  Start(300);
  const std::vector<proto::JobSpec> jobs = {BankJob("market", 40, 1), BankJob("duke", 60, 2)};
  const proto::JobReport report = RunJobs(system_, Cluster(2), jobs);
  ASSERT_EQ(report.results_size(), 2);
  EXPECT_EQ(report.lost_jobs_size(), 0);
  EXPECT_EQ(report.lost_workers_size(), 0);
  for (const proto::JobSpec& job : jobs) {
    const proto::JobResult* r = Find(report, job.job_id());
    ASSERT_NE(r, nullptr) << job.job_id();
    EXPECT_TRUE(r->ok()) << r->error();
    EXPECT_EQ(r->attempt(), 1);
    EXPECT_EQ(Labels(*r), ExpectedLabels(job)) << job.job_id();
  }
  // Both workers were idle at the start, so each ran one dataset.
  EXPECT_NE(report.results(0).worker(), report.results(1).worker());
}

TEST_F(DistributedTest, WorkerKilledMidJobIsDetectedAndItsJobRunsOnTheOther) {
  workers_.reserve(2);
  Start(0);
  WorkerProcess& slow = Start(5000);
  const std::string slow_address = slow.address();
  const std::vector<proto::JobSpec> jobs = {BankJob("market", 40, 1), BankJob("duke", 60, 2)};
  const proto::ClusterConfig config = Cluster(2);
  auto running = std::async(std::launch::async, [&] { return RunJobs(system_, config, jobs); });
  ASSERT_EQ(ReadLine(slow.out, 20000), "started 60") << "the slow worker never started its job";
  Kill(slow);
  ASSERT_EQ(running.wait_for(std::chrono::seconds(30)), std::future_status::ready) << "loss not detected";
  const proto::JobReport report = running.get();
  ASSERT_EQ(report.lost_workers_size(), 1);
  EXPECT_EQ(report.lost_workers(0).rfind(slow_address, 0), 0u) << report.lost_workers(0);
  EXPECT_EQ(report.lost_jobs_size(), 0);
  ASSERT_EQ(report.results_size(), 2);
  const proto::JobResult* duke = Find(report, "duke");
  ASSERT_NE(duke, nullptr);
  EXPECT_TRUE(duke->ok()) << duke->error();
  EXPECT_EQ(duke->attempt(), 2);
  EXPECT_EQ(duke->worker(), workers_[0].address());
  EXPECT_EQ(Labels(*duke), ExpectedLabels(jobs[1]));
}

TEST_F(DistributedTest, JobIsReportedLostWhenItsTriesRunOut) {
  workers_.reserve(2);
  Start(0);
  WorkerProcess& slow = Start(5000);
  const std::vector<proto::JobSpec> jobs = {BankJob("market", 40, 1), BankJob("duke", 60, 2)};
  const proto::ClusterConfig config = Cluster(1);
  auto running = std::async(std::launch::async, [&] { return RunJobs(system_, config, jobs); });
  ASSERT_EQ(ReadLine(slow.out, 20000), "started 60");
  Kill(slow);
  ASSERT_EQ(running.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const proto::JobReport report = running.get();
  ASSERT_EQ(report.lost_jobs_size(), 1);
  EXPECT_EQ(report.lost_jobs(0), "duke");
  ASSERT_EQ(report.lost_job_tries().count("duke"), 1u);
  EXPECT_EQ(report.lost_job_tries().at("duke"), 1);
  ASSERT_EQ(report.results_size(), 1);
  EXPECT_EQ(report.results(0).job_id(), "market");
  EXPECT_TRUE(report.results(0).ok());
}

TEST_F(DistributedTest, UnknownJobKindFailsOnTheWorkerWithItsCause) {
  Start(0);
  proto::JobSpec job = BankJob("msmt", 20, 3);
  job.set_kind("train_gpt");
  const proto::JobReport report = RunJobs(system_, Cluster(2), {job});
  ASSERT_EQ(report.results_size(), 1);
  EXPECT_FALSE(report.results(0).ok());
  EXPECT_NE(report.results(0).error().find("no job kind 'train_gpt'"), std::string::npos)
      << report.results(0).error();
}

}  // namespace
}  // namespace gcl::actors

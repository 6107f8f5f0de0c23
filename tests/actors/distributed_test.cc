// Distribution over loopback: two worker processes (test_worker) and a coordinator node in this process run a
// two-dataset job and gather both results; a worker killed with SIGKILL mid-job is detected and its job re-queued
// on the other worker, or reported lost when no try is left. Security: a job without a valid authentication code
// (none, another secret, a replayed nonce) never runs; a forged 32-byte header claiming gigabytes closes its
// connection without the worker allocating them; a timeout and the worker's watchdog are reported in words.
// Network traffic goes to 127.0.0.1 only, a bounded number of messages each test.
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "actors/distributed.h"
#include "actors/node_auth.h"
#include "actors/protocol.h"
#include "actors/run_config.h"
#include "tests/actors/fake_backends.h"

namespace gcl::actors {
namespace {

using testing::FloatTensor;
using testing::ToyCluster;

constexpr char kSecret[] = "distributed_test shared secret";
// The worker processes read the secret from the environment they inherit.
const bool kSecretExported = setenv(kNodeSecretEnv, kSecret, 1) == 0;

NodeSecret Secret() { return NodeSecret::FromBytes(kSecret, "test"); }

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

WorkerProcess StartWorker(int delay_ms, std::vector<std::string> extra) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  std::vector<std::string> args = {WorkerBinary(), "--delay_ms=" + std::to_string(delay_ms)};
  args.insert(args.end(), extra.begin(), extra.end());
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
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
  WorkerProcess& Start(int delay_ms, std::vector<std::string> extra = {}) {
    EXPECT_TRUE(kSecretExported);
    workers_.push_back(StartWorker(delay_ms, std::move(extra)));
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
  const proto::JobReport report = RunJobs(system_, Cluster(2), jobs, Secret());
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
  auto running = std::async(std::launch::async, [&] { return RunJobs(system_, config, jobs, Secret()); });
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
  auto running = std::async(std::launch::async, [&] { return RunJobs(system_, config, jobs, Secret()); });
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
  const proto::JobReport report = RunJobs(system_, Cluster(2), {job}, Secret());
  ASSERT_EQ(report.results_size(), 1);
  EXPECT_FALSE(report.results(0).ok());
  EXPECT_NE(report.results(0).error().find("no job kind 'train_gpt'"), std::string::npos)
      << report.results(0).error();
}

// The worker's resident memory in kB (/proc/<pid>/status VmRSS), -1 when unknown.
long ResidentKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// `job` sent to `worker` as this test process's own peer, not through RunJobs: what anyone who can reach the
// port can send. Returns the error the worker answered with, or none when it ran the job.
caf::error SendRaw(caf::actor_system& system, const WorkerProcess& worker, const proto::JobSpec& job) {
  caf::expected<caf::actor> handle = system.middleman().remote_actor("127.0.0.1", worker.port);
  EXPECT_TRUE(handle) << system.render(handle.error());
  if (!handle) return handle.error();
  caf::scoped_actor self{system};
  caf::error result;
  self->request(*handle, std::chrono::seconds(20), job_atom::value, Wrap(job))
      .receive([](JobResultMsg&) {}, [&](caf::error& e) { result = std::move(e); });
  return result;
}

std::string Hello(caf::actor_system& system, const WorkerProcess& worker) {
  caf::expected<caf::actor> handle = system.middleman().remote_actor("127.0.0.1", worker.port);
  if (!handle) return "";
  caf::scoped_actor self{system};
  std::string nonce;
  self->request(*handle, std::chrono::seconds(20), hello_atom::value)
      .receive([&](std::string& n) { nonce = std::move(n); }, [](caf::error&) {});
  return nonce;
}

proto::JobSpec Signed(proto::JobSpec job, const std::string& nonce, const NodeSecret& secret) {
  job.set_worker_nonce(nonce);
  job.set_coordinator_nonce(RandomNonce());
  job.set_auth_mac(secret.Mac(JobAuthText(nonce, job)));
  return job;
}

TEST_F(DistributedTest, JobWithoutAValidAuthenticationCodeNeverRuns) {
  WorkerProcess& w = Start(0);
  const proto::JobSpec job = BankJob("market", 40, 1);
  // No code at all, as any peer could send it before the handshake existed.
  caf::error e = SendRaw(system_, w, job);
  EXPECT_TRUE(IsError(e, gcl_errc::unauthorized)) << DescribeError(e);
  // A code made with another secret.
  e = SendRaw(system_, w, Signed(job, Hello(system_, w), NodeSecret::FromBytes("not the workers secret", "test")));
  EXPECT_TRUE(IsError(e, gcl_errc::unauthorized)) << DescribeError(e);
  EXPECT_NE(DescribeError(e).find("does not match"), std::string::npos) << DescribeError(e);
  EXPECT_EQ(ReadLine(w.out, 500), "") << "a job without a valid code started";
  // The right secret runs it, once: the same signed job again (a replay) is refused.
  const proto::JobSpec good = Signed(job, Hello(system_, w), Secret());
  e = SendRaw(system_, w, good);
  EXPECT_FALSE(e) << DescribeError(e);
  EXPECT_EQ(ReadLine(w.out, 5000), "started 40");
  e = SendRaw(system_, w, good);
  EXPECT_TRUE(IsError(e, gcl_errc::unauthorized)) << DescribeError(e);
  EXPECT_NE(DescribeError(e).find("no valid nonce"), std::string::npos) << DescribeError(e);
}

TEST_F(DistributedTest, CoordinatorWithAnotherSecretLosesTheWorkerAndSaysWhy) {
  WorkerProcess& w = Start(0);
  const proto::JobReport report =
      RunJobs(system_, Cluster(1), {BankJob("market", 40, 1)}, NodeSecret::FromBytes("another 16+ byte secret", "t"));
  EXPECT_EQ(report.results_size(), 0);
  ASSERT_EQ(report.lost_jobs_size(), 1);
  ASSERT_EQ(report.lost_workers_size(), 1);
  EXPECT_NE(report.lost_workers(0).find("do not share one secret"), std::string::npos) << report.lost_workers(0);
  EXPECT_EQ(ReadLine(w.out, 300), "") << "the job started on a worker with another secret";
}

TEST_F(DistributedTest, ForgedHeaderClaimingGigabytesClosesItsConnectionWithoutTheAllocation) {
  WorkerProcess& w = Start(0);
  const long before = ResidentKb(w.pid);
  ASSERT_GT(before, 0);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(w.port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  // A BASP header (CAF 0.17.6, big-endian): direct_message, payload 0xF0000000 bytes (3.75 GiB), to actor 1.
  unsigned char header[32] = {0};
  header[0] = 0x02;
  const uint32_t length = htonl(0xF0000000u);
  std::memcpy(header + 4, &length, 4);
  header[31] = 1;
  ASSERT_EQ(write(fd, header, sizeof header), static_cast<ssize_t>(sizeof header));
  // The worker closes the connection (after its own handshake bytes): read until end of stream, 10 s at most.
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buffer[256];
    closed = read(fd, buffer, sizeof buffer) <= 0;
  }
  close(fd);
  EXPECT_TRUE(closed) << "the worker kept the connection that claimed 3.75 GiB";
  EXPECT_LT(ResidentKb(w.pid) - before, 100 * 1024) << "the worker grew by the claimed size";
  // It still serves authenticated jobs.
  const proto::JobReport report = RunJobs(system_, Cluster(1), {BankJob("market", 40, 1)}, Secret());
  ASSERT_EQ(report.results_size(), 1);
  EXPECT_TRUE(report.results(0).ok()) << report.results(0).error();
}

TEST_F(DistributedTest, JobTimeoutIsReportedAsATimeoutNotAsACafCode) {
  Start(3000);
  proto::ClusterConfig config = Cluster(1);
  config.set_job_timeout_s(1);
  const proto::JobReport report = RunJobs(system_, config, {BankJob("market", 40, 1)}, Secret());
  ASSERT_EQ(report.lost_workers_size(), 1);
  EXPECT_NE(report.lost_workers(0).find("gave no answer within --job_timeout_s=1 s"), std::string::npos)
      << report.lost_workers(0);
  EXPECT_EQ(report.lost_workers(0).find("code 4"), std::string::npos) << report.lost_workers(0);
  ASSERT_EQ(report.lost_job_causes().count("market"), 1u);
  EXPECT_NE(report.lost_job_causes().at("market").find("--job_timeout_s=1 s"), std::string::npos);
}

TEST_F(DistributedTest, WatchdogAnswersAnOverrunningJobAsFailedAndEndsTheWorker) {
  WorkerProcess& w = Start(10000, {"--job_limit_s=1"});
  const auto start = std::chrono::steady_clock::now();
  const proto::JobReport report = RunJobs(system_, Cluster(1), {BankJob("market", 40, 1)}, Secret());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8)) << "the job ran its full 10 s";
  ASSERT_EQ(report.results_size(), 1);
  EXPECT_FALSE(report.results(0).ok());
  EXPECT_NE(report.results(0).error().find("--job_limit_s=1"), std::string::npos) << report.results(0).error();
  int status = 0;
  for (int i = 0; i < 100 && waitpid(w.pid, &status, WNOHANG) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << "the worker process did not end";
  w.pid = -1;
}

TEST_F(DistributedTest, RepeatedJobIdIsRefusedBeforeAnyJobRuns) {
  Start(0);
  EXPECT_THROW(RunJobs(system_, Cluster(1), {BankJob("market", 40, 1), BankJob("market", 20, 2)}, Secret()),
               std::runtime_error);
}

}  // namespace
}  // namespace gcl::actors

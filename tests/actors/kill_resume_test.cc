// A job process killed with SIGKILL in the middle of a joint epoch and started again with --resume ends in the
// same state (weights, optimizer/scheduler state, memory bank, pseudo labels, random streams, step count) as the
// same job never interrupted. The job is toy_train (the runtime with fake_backends.h), so this checks the
// runtime's part: atomic checkpoints, what they hold, and the exact replay of the interrupted epoch.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "actors/checkpointer.h"

namespace gcl::actors {
namespace {

std::string Binary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (!srcdir || !workspace) return "tests/actors/toy_train";
  return std::string(srcdir) + "/" + workspace + "/tests/actors/toy_train";
}

std::string Dir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp ? tmp : "/tmp") + "/kill_resume_" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// Starts toy_train with `args`; its stdout comes back through *out.
pid_t Start(const std::vector<std::string>& args, int* out) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    const std::string binary = Binary();
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  *out = fds[0];
  return pid;
}

// Reads lines until one equals `wanted`; false on end of file or after 20 s.
bool WaitForLine(int fd, const std::string& wanted) {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char ch;
    if (read(fd, &ch, 1) != 1) return false;
    if (ch != '\n') {
      line += ch;
      continue;
    }
    if (line == wanted) return true;
    line.clear();
  }
  return false;
}

int Finish(pid_t pid, int fd) {
  char buffer[256];
  while (read(fd, buffer, sizeof buffer) > 0) {
  }
  close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(KillResumeTest, SigkillMidEpochThenResumeEqualsAnUninterruptedRun) {
  const std::string full_dir = Dir("full");
  int out = -1;
  pid_t pid = Start({"--dir=" + full_dir}, &out);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(Finish(pid, out), 0) << "uninterrupted run failed";

  const std::string killed_dir = Dir("killed");
  pid = Start({"--dir=" + killed_dir, "--step_delay_ms=50"}, &out);
  ASSERT_GT(pid, 0);
  // Global step 18 of 20 is the second step of joint epoch 1; the checkpoint after joint epoch 0 (step 16) exists.
  ASSERT_TRUE(WaitForLine(out, "step 18")) << "the run never reached step 18";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(out);
  ASSERT_TRUE(WIFSIGNALED(status));
  // The newest complete checkpoint: after joint epoch 0 (step 16), or after GAN warm-up (step 12) when the kill
  // came while the step-16 one was still being written.
  proto::Checkpoint at_kill;
  ASSERT_TRUE(ReadLatestCheckpoint(killed_dir, &at_kill));
  EXPECT_EQ(at_kill.phase(), proto::PHASE_JOINT);
  EXPECT_TRUE((at_kill.epoch() == 1 && at_kill.global_step() == 16) ||
              (at_kill.epoch() == 0 && at_kill.global_step() == 12))
      << "epoch " << at_kill.epoch() << ", step " << at_kill.global_step();

  pid = Start({"--dir=" + killed_dir, "--resume"}, &out);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(Finish(pid, out), 0) << "resumed run failed";

  proto::Checkpoint a, b;
  ASSERT_TRUE(ReadLatestCheckpoint(full_dir, &a));
  ASSERT_TRUE(ReadLatestCheckpoint(killed_dir, &b));
  EXPECT_EQ(b.phase(), proto::PHASE_DONE);
  EXPECT_EQ(b.global_step(), a.global_step());
  // Everything that decides the model and the data, bit for bit (the history differs only in timings).
  proto::Checkpoint a_state = a, b_state = b;
  for (proto::Checkpoint* c : {&a_state, &b_state}) {
    c->clear_history();
    c->clear_written_utc();
  }
  EXPECT_EQ(a_state.SerializeAsString(), b_state.SerializeAsString());
  ASSERT_EQ(b.history_size(), a.history_size());
  for (int i = 0; i < a.history_size(); ++i) {
    EXPECT_EQ(b.history(i).mean_losses().at("toy"), a.history(i).mean_losses().at("toy")) << "epoch entry " << i;
  }
}

}  // namespace
}  // namespace gcl::actors

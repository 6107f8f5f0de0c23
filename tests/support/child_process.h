// Test support for tests that run the project's programs as child processes (the train binary, node workers and
// coordinators), the way users run them: fork + exec with the output in a log file.
//
//   const pid_t pid = StartChild({binary, "--config=tiny"}, {.log = work / "train.log", .working_dir = work});
//   EXPECT_EQ(WaitForExit(pid), 0) << ReadFile(work / "train.log");
#ifndef GCL_TESTS_SUPPORT_CHILD_PROCESS_H_
#define GCL_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gcl::testing_support {

// The whole file; "" when it cannot be read (the caller's assertion says what was expected).
inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// $TEST_TMPDIR (Bazel's per-test scratch folder), else /tmp.
inline std::filesystem::path TestTmpDir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::filesystem::path(tmp != nullptr ? tmp : "/tmp");
}

struct ChildOutput {
  std::filesystem::path log;         // stdout and stderr are appended here...
  int stdout_fd = -1;                // ...except stdout, when this is >= 0 (e.g. a pipe's write end)...
  std::string stderr_tty;            // ...and stderr, when this names a terminal (e.g. a pseudo terminal's slave)
  std::filesystem::path working_dir; // when set: BUILD_WORKING_DIRECTORY, as `bazel run` passes the user's folder
};

// Forks and execs args[0] with `args`; returns the child's pid (the child exits 127 when exec fails).
inline pid_t StartChild(std::vector<std::string> args, const ChildOutput& output) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!output.working_dir.empty()) setenv("BUILD_WORKING_DIRECTORY", output.working_dir.c_str(), 1);
    const int log = open(output.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(output.stdout_fd >= 0 ? output.stdout_fd : log, STDOUT_FILENO);
    if (!output.stderr_tty.empty()) {
      dup2(open(output.stderr_tty.c_str(), O_RDWR | O_NOCTTY), STDERR_FILENO);
    } else {
      dup2(log, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The child's exit code, or -1 when a signal ended it.
inline int WaitForExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace gcl::testing_support

#endif  // GCL_TESTS_SUPPORT_CHILD_PROCESS_H_

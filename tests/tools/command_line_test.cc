// Every command's command line, run as users run it: --help alike everywhere, unknown flags and stray arguments
// refused with exit status 2, and the cases of issue 18 (prefix matching, "stoi" for non-numbers, a LibTorch
// backtrace for a zero image size) answered with the flag and the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Command {
  std::string name;
  std::string path;  // below the runfiles root
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"train", "tools/train/train"},
      {"extract", "tools/extract/extract"},
      {"search", "tools/search/search"},
      {"generate", "tools/generate/generate"},
      {"cluster", "clustering/cluster"},
      {"evaluate", "evaluation/evaluate"},
      {"node", "tools/node/node"},
      {"make_dataset", "data/synth/make_dataset"},
      {"hist_baseline", "evaluation/hist_baseline"},
      {"inspect_dataset", "data/datasets/inspect_dataset"},
      {"render_demo", "data/render/render_demo"},
  };
  return commands;
}

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr
};

fs::path WorkDir() {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / "work";
  fs::create_directories(dir);
  return dir;
}

// Runs the command as `bazel run` does: in its runfiles (where configs/ is), with the user's folder (an empty one
// here) in BUILD_WORKING_DIRECTORY; limited to 60 s so that a command line wrongly accepted cannot run a long job.
Result Launch(const std::string& path, const std::string& args) {
  const std::string runfiles = std::string(std::getenv("TEST_SRCDIR")) + "/gcl_cpp";
  const std::string command = "cd " + runfiles + " && BUILD_WORKING_DIRECTORY=" + WorkDir().string() + " timeout 60 " +
                              runfiles + "/" + path + " " + args + " 2>&1";
  Result r;
  FILE* pipe = popen(command.c_str(), "r");
  std::array<char, 4096> buffer;
  size_t got = 0;
  while ((got = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), got);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(CommandLine, HelpIsAlikeEverywhere) {
  for (const Command& c : Commands()) {
    for (const std::string help : {"--help", "-h"}) {
      const Result r = Launch(c.path, help);
      EXPECT_EQ(r.code, 0) << c.path << " " << help << "\n" << r.output;
      EXPECT_THAT(r.output, StartsWith("usage: " + c.name)) << c.path;
      EXPECT_THAT(r.output, HasSubstr("\nflags:\n")) << c.path;
      EXPECT_THAT(r.output, HasSubstr("  --help  ")) << c.path;
    }
  }
}

TEST(CommandLine, UnknownFlagsAndStrayArgumentsAreRefused) {
  for (const Command& c : Commands()) {
    Result r = Launch(c.path, "--no_such_flag=1");
    EXPECT_EQ(r.code, 2) << c.path << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.name + ": unknown flag --no_such_flag\n(" + c.name + " --help lists the flags)"))
        << c.path;
    r = Launch(c.path, "stray");
    EXPECT_EQ(r.code, 2) << c.path << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.name + ": unexpected argument 'stray'")) << c.path;
  }
}

// `train --named=foo --threads=1` trained a run named "--threads=1": --named matched --name by prefix and took the
// next argument as its value.
TEST(CommandLine, TrainMatchesNamesExactly) {
  Result r = Launch("tools/train/train", "--named=foo --threads=1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("train: unknown flag --named (did you mean --name?)"));
  EXPECT_FALSE(fs::exists(WorkDir() / "runs")) << "a run was started";
  r = Launch("tools/train/train", "--name --threads=1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("train: --name needs a value (--name=NAME); the next argument '--threads=1' is a flag"));
  r = Launch("tools/train/train", "--resume --resume");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--resume is given twice"));
  EXPECT_FALSE(fs::exists(WorkDir() / "runs"));
}

// Non-numbers said "stoi" / "stoll"; now the flag, the text and the problem.
TEST(CommandLine, NumbersNameTheFlag) {
  const std::string search = "--model=m.safetensors --query=q.jpg --gallery=g";
  const struct {
    std::string path, args, expected;
  } cases[] = {
      {"tools/train/train", "--threads=abc", "train: --threads=abc: not a whole number"},
      {"tools/search/search", search + " --top=abc", "search: --top=abc: not a whole number"},
      {"tools/search/search", search + " --top=0", "search: --top=0: must be >= 1"},
      {"tools/extract/extract", "--images=d --output=o --model=m --batch_size=1.5",
       "extract: --batch_size=1.5: not a whole number"},
      {"clustering/cluster", "--features=a.npy --samples=a.csv --rho=inf", "cluster: --rho=inf: not a finite number"},
      {"evaluation/evaluate",
       "--query_features=q --query_samples=q --gallery_features=g --gallery_samples=g --threads=x",
       "evaluate: --threads=x: not a whole number"},
      {"tools/node/node", "--role=worker --port=99999", "node: --port=99999: must be <= 65535"},
      {"tools/node/node", "--role=worker --port=-1", "node: --port=-1: must be >= 0"},
      {"data/synth/make_dataset", "--out=x --seed=-1", "make_dataset: --seed=-1: not a whole number >= 0"},
      {"data/datasets/inspect_dataset", "--name=market1501 --root=x --threads=two",
       "inspect_dataset: --threads=two: not a whole number"},
      {"tools/generate/generate", "--run=r --images=a.jpg --structures=s --angles=0,30",
       "generate: --angles=0,30: render angle 30 is not one of 0, 45, ..., 315"},
  };
  for (const auto& c : cases) {
    const Result r = Launch(c.path, c.args);
    EXPECT_EQ(r.code, 2) << c.path << " " << c.args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.expected)) << c.path << " " << c.args;
    EXPECT_THAT(r.output, Not(HasSubstr("stoi"))) << c.path;
    EXPECT_THAT(r.output, Not(HasSubstr("stoll"))) << c.path;
  }
}

// `search --image_height=0` ended in a raw LibTorch backtrace.
TEST(CommandLine, ImageSizesAreCheckedBeforeTheNetwork) {
  const std::string search = "--model=m.safetensors --query=q.jpg --gallery=g";
  for (const std::string& path : {std::string("tools/search/search"), std::string("tools/extract/extract")}) {
    const std::string args =
        path == "tools/search/search" ? search : std::string("--images=d --output=o --model=m.safetensors");
    const std::string name = fs::path(path).filename().string();
    Result r = Launch(path, args + " --image_height=0");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr(name + ": --image_height=0: must be >= 32"));
    EXPECT_THAT(r.output, Not(HasSubstr("Exception raised from")));
    r = Launch(path, args + " --image_width=100000");
    EXPECT_EQ(r.code, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr(name + ": --image_width=100000: must be <= 4096"));
  }
}

// node's flags depend on its role; another role's flag is an error rather than silently ignored.
TEST(CommandLine, NodeRefusesAnotherRolesFlags) {
  Result r = Launch("tools/node/node", "--role=worker --features=a.npy");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("node: --features is not a flag of a worker"));
  r = Launch("tools/node/node", "--role=coordinator --workers=127.0.0.1:1 --job=a --threads=2");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("node: --threads is not a flag of a train coordinator"));
  r = Launch("tools/node/node", "--role=boss");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("node: --role=boss: must be worker or coordinator"));
  r = Launch("tools/node/node", "--port=1");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("node: --role is required"));
}

}  // namespace

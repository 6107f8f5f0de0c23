// Train configs as `train --config=FILE` reads them (parse, resolve with every range check), fed seeded random
// mutations of the presets in configs/. Every mutant is read within 10 s and a 256 MB memory budget and either
// resolves or is refused with a std::exception naming the field (issue 18).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/hostile_input.h"
#include "training/train_config.h"

namespace gcl::training {
namespace {

using testing_support::FuzzFile;
using testing_support::FuzzOptions;
using testing_support::FuzzReport;
using testing_support::TestTmpDir;

TEST(TrainConfigFuzz, Presets) {
  std::vector<std::string> samples;
  for (const auto& entry : std::filesystem::directory_iterator("configs")) {
    if (entry.path().extension() != ".pbtxt") continue;
    std::ifstream in(entry.path());
    samples.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  ASSERT_GE(samples.size(), 5u);
  FuzzOptions options;
  options.seed = 1;
  options.iterations = 3000;
  options.limits.seconds = 10;
  options.limits.memory_bytes = uint64_t{256} << 20;
  const FuzzReport r = FuzzFile(samples, TestTmpDir() / "mutant.pbtxt", options, [](const std::string& path) {
    proto::TrainConfig c = LoadTrainConfig(path);
    // The paper presets need the user's data; give it, so that resolving reaches every check.
    if (c.data().dataset() != "synthetic") {
      ApplyOverride("data.root=/data/x", &c);
      ApplyOverride("data.mesh_dir=/data/mesh", &c);
      ApplyOverride("model.identity_init=/data/jvtc.pth", &c);
    }
    ResolveTrainConfig(c);
  });
  EXPECT_GT(r.returned, 0);
  EXPECT_GT(r.threw, 0);
  std::printf("configs: %d resolved, %d refused, slowest %.3f s\n", r.returned, r.threw, r.slowest_seconds);
}

}  // namespace
}  // namespace gcl::training

// train: GCL training end to end (stage 1 E_id warm-up, stage 2 GAN warm-up, stage 3 joint training).
//
//   bazel run //:train                                     # the quick preset on the cached synthetic world
//   bazel run //:train -- --config=paper_market --set data.root=/data/market1501 --set data.mesh_dir=/data/mesh/market
//   bazel run //:train -- --set run.joint_epochs=2 --name=try2
//   bazel run //:train -- --config=uda_quick             # UDA: stage 1 on a labelled source world (docs/uda.md)
//   bazel run //:train -- --name=quick --resume           # continue runs/quick from its newest checkpoint
//
// Outputs in runs/<name>/ (docs/training.md): report.md, summary.json, metrics.jsonl, plots/, views/, export/,
// checkpoints/, config.pbtxt. Relative paths resolve against the folder `bazel run` was started from.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "training/train_config.h"
#include "training/train_run.h"

namespace {

constexpr char kAbout[] =
    "GCL's three stages (E_id warm-up, GAN warm-up, joint training) from a config; outputs in "
    "runs/NAME/ (docs/training.md).";

}  // namespace

int main(int argc, char** argv) {
  return gcl::RunCommand("train", 2, [&]() -> int {
    std::string config_name = "quick", name;
    std::vector<std::string> sets;
    bool resume = false, overwrite = false;
    int threads = 0;
    gcl::FlagSet flags(
        "train", "train [--config=NAME|FILE] [--set FIELD=VALUE]... [--name=NAME] [--resume | --overwrite] [--threads=N]",
        kAbout);
    flags.String("config", &config_name, "NAME|FILE",
                 "a preset of configs/ (quick, tiny, paper_market, paper_duke, paper_msmt, and the UDA presets\n"
                 "uda_quick, uda_duke2market, uda_market2duke, uda_market2msmt, uda_duke2msmt) or a text-format\n"
                 "TrainConfig file (proto/train_config.proto)");
    flags.List("set", &sets, "FIELD=VALUE",
               "override one field, e.g. --set run.joint_epochs=3 --set data.root=/data/market1501\n"
               "(repeated fields: comma-separated; enums by name); unknown fields are errors");
    flags.String("name", &name, "NAME", "the run's name (= --set run.name=NAME): outputs go to runs/NAME/");
    flags.Bool("resume", &resume,
               "continue runs/NAME from its newest valid checkpoint, with the config saved there\n"
               "(--set still applies); an error when runs/NAME has no checkpoint or the checkpoint was\n"
               "trained on other data");
    flags.Bool("overwrite", &overwrite,
               "a fresh run into runs/NAME although it holds an earlier run, which is deleted first\n"
               "(without it a used name is refused and nothing is changed)");
    flags
        .Int("threads", &threads,
             "LibTorch/OpenBLAS threads (0: $GCL_NUM_THREADS, else every CPU of the\n"
             "process)")
        .Min(0)
        .Max(4096);
    if (!flags.Parse(argc, argv)) return 0;
    const std::string working_dir = gcl::UserWorkingDir();
    gcl::proto::TrainConfig config =
        gcl::training::LoadTrainConfig(gcl::training::FindTrainConfig(config_name, working_dir));
    if (!name.empty()) gcl::training::ApplyOverride("run.name=" + name, &config);
    for (const std::string& s : sets) gcl::training::ApplyOverride(s, &config);
    config = gcl::training::ResolveTrainConfig(config);
    if (resume) {
      const std::filesystem::path saved = gcl::ResolveAgainst(
          (std::filesystem::path(config.run().output_dir()) / config.run().name() / "config.pbtxt").string(), working_dir);
      if (std::filesystem::exists(saved)) {
        config = gcl::training::LoadTrainConfig(saved.string());
        // The folder decides the name: a run folder copied under a new name resumes in place.
        if (!name.empty()) gcl::training::ApplyOverride("run.name=" + name, &config);
        for (const std::string& s : sets) gcl::training::ApplyOverride(s, &config);
        config = gcl::training::ResolveTrainConfig(config);
      }
    }
    // 0: every CPU (or $GCL_NUM_THREADS). The GAN and joint steps, most of a run, gain from the second core;
    // the short stage-1 step loses ~20-30% beside the loader worker (docs/performance.md, "Threads").
    gcl::ConfigureThreads(threads);
    gcl::WarnIfSlowBlas();
    const gcl::training::TrainResult result =
        gcl::training::RunTraining(config, working_dir, resume, isatty(STDERR_FILENO) != 0, overwrite);
    std::ifstream report(result.run_dir + "/report.md");
    std::cout << report.rdbuf() << "\n(all outputs in " << result.run_dir << ")\n";
    if (!result.report.completed()) {
      std::cerr << "train: the run stopped: " << result.report.error() << "\n";
      return 1;
    }
    return 0;
  });
}

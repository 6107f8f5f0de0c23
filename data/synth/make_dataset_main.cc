// Generates a synthetic multi-camera person dataset (Market-1501 layout + GCL structure renders).
//
//   bazel run //data/synth:make_dataset -- --out /data/synth_quick --preset quick --seed 1 [--threads N]
//   bazel run //data/synth:make_dataset -- --cache_dir ~/.cache/gcl --preset quick --seed 1
// --set changes WorldSpec fields of the preset (e.g. --set occlusion_prob=0,num_test_ids=50).
// With --out the folder must not exist; with --cache_dir the dataset is generated once into
// <cache_dir>/synth_<preset>_seed<seed>_v<version> and reused afterwards. A relative path is taken from the
// directory `bazel run` was started in.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "common/progress_line.h"
#include "common/user_path.h"
#include "data/synth/synthetic_world.h"
#include "data/synth/world_spec.h"

namespace {

constexpr char kUsage[] =
    "usage: make_dataset (--out DIR | --cache_dir DIR) [--preset tiny|quick|hard|bench] [--seed N] [--threads N] "
    "[--set field=value,...]\n";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "make_dataset: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, cache_dir, preset = "quick", overrides;
  unsigned long long seed = 1;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage("missing value for " + arg);
    }
    try {
      if (arg == "--out") out = value;
      else if (arg == "--cache_dir") cache_dir = value;
      else if (arg == "--preset") preset = value;
      else if (arg == "--seed") seed = std::stoull(value);
      else if (arg == "--threads") threads = std::stoi(value);
      else if (arg == "--set") overrides += "," + value;
      else return Usage("unknown argument " + arg);
    } catch (const std::exception&) {
      return Usage("bad value '" + value + "' for " + arg);
    }
  }
  if (out.empty() == cache_dir.empty()) return Usage("give exactly one of --out and --cache_dir");
  if (!cache_dir.empty() && !overrides.empty()) return Usage("--set works with --out only (the cache holds presets)");
  gcl::ProgressLine bar("rendering synthetic world", "images");
  const gcl::data::GenerationProgress progress = [&bar](size_t done, size_t total) { bar.Update(done, total); };
  try {
    if (!cache_dir.empty()) {
      const std::string path =
          gcl::data::EnsureSyntheticDataset(preset, seed, gcl::UserPath(cache_dir), threads, progress);
      std::printf("%s\n", path.c_str());
      return 0;
    }
    gcl::data::WorldSpec spec = gcl::data::WorldSpecForPreset(preset);
    gcl::data::ApplyWorldSpecOverrides(overrides, spec);
    gcl::data::ValidateWorldSpec(spec);
    const gcl::data::GenerationSummary s = gcl::data::GenerateSyntheticDataset(spec, seed, gcl::UserPath(out), threads,
                                                                                progress);
    const int images = s.train_images + s.query_images + s.gallery_images;
    std::printf("wrote %s: %d train images (%d ids), %d query, %d gallery (%d distractors; %d test ids) in %.1f s "
                "(%.1f images/s with 8 structure views each)\n",
                gcl::UserPath(out).c_str(), s.train_images, s.train_ids, s.query_images, s.gallery_images,
                s.distractor_images, s.test_ids, s.seconds, images / s.seconds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_dataset: %s\n", e.what());
    return 1;
  }
}

// Generates a synthetic multi-camera person dataset (Market-1501 layout + GCL structure renders).
//
//   bazel run //data/synth:make_dataset -- --out=/data/synth_quick --preset=quick --seed=1 [--threads=N]
//   bazel run //data/synth:make_dataset -- --cache_dir=~/.cache/gcl --preset=quick --seed=1
// --set changes WorldSpec fields of the preset (e.g. --set occlusion_prob=0,num_test_ids=50).
// With --out the folder must not exist; with --cache_dir the dataset is generated once into
// <cache_dir>/synth_<preset>_seed<seed>_v<version> and reused afterwards. A relative path is taken from the
// directory `bazel run` was started in.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/progress_line.h"
#include "common/user_path.h"
#include "data/synth/synthetic_world.h"
#include "data/synth/world_spec.h"

int main(int argc, char** argv) {
  return gcl::RunCommand("make_dataset", 1, [&]() -> int {
    std::string out, cache_dir, preset = "quick";
    std::vector<std::string> overrides;
    uint64_t seed = 1;
    int threads = 0;
    gcl::FlagSet flags("make_dataset", "make_dataset (--out=DIR | --cache_dir=DIR) [--preset=NAME] [flags]",
                       "Renders the synthetic multi-camera world in Market-1501 layout with GCL's structure renders.");
    flags.String("out", &out, "DIR", "write the dataset here (the folder must not exist)");
    flags.String("cache_dir", &cache_dir, "DIR",
                 "generate once into DIR/synth_<preset>_seed<seed>_v<version> and reuse it afterwards");
    flags.String("preset", &preset, "tiny|quick|hard|bench", "the world's size and difficulty");
    flags.Unsigned("seed", &seed, "the world's seed");
    flags.Int("threads", &threads, "rendering threads (0: all CPUs)").Min(0).Max(4096);
    flags.List("set", &overrides, "FIELD=VALUE,...", "change WorldSpec fields of the preset (with --out only)");
    if (!flags.Parse(argc, argv)) return 0;
    if (out.empty() == cache_dir.empty()) throw gcl::FlagError("give exactly one of --out and --cache_dir");
    if (!cache_dir.empty() && !overrides.empty()) {
      throw gcl::FlagError("--set works with --out only (the cache holds presets)");
    }
    gcl::ProgressLine bar("rendering synthetic world", "images");
    const gcl::data::GenerationProgress progress = [&bar](size_t done, size_t total) { bar.Update(done, total); };
    if (!cache_dir.empty()) {
      const std::string path =
          gcl::data::EnsureSyntheticDataset(preset, seed, gcl::UserPath(cache_dir), threads, progress);
      std::printf("%s\n", path.c_str());
      return 0;
    }
    gcl::data::WorldSpec spec = gcl::data::WorldSpecForPreset(preset);
    std::string joined;
    for (const std::string& o : overrides) joined += "," + o;
    gcl::data::ApplyWorldSpecOverrides(joined, spec);
    gcl::data::ValidateWorldSpec(spec);
    const gcl::data::GenerationSummary s = gcl::data::GenerateSyntheticDataset(spec, seed, gcl::UserPath(out), threads,
                                                                                progress);
    const int images = s.train_images + s.query_images + s.gallery_images;
    std::printf("wrote %s: %d train images (%d ids), %d query, %d gallery (%d distractors; %d test ids) in %.1f s "
                "(%.1f images/s with 8 structure views each)\n",
                gcl::UserPath(out).c_str(), s.train_images, s.train_ids, s.query_images, s.gallery_images,
                s.distractor_images, s.test_ids, s.seconds, images / s.seconds);
    return 0;
  });
}

// Generates a synthetic multi-camera person re-identification dataset in Market-1501's layout, with GCL's
// structure renders beside it.
//
// Output folder:
//   bounding_box_train/  query/  bounding_box_test/    JPEG crops named PPPP_cCsS_FFFFFF_00.jpg (Market-1501)
//   mesh/train/render/ render_45/ ... render_315/       grey body on white, same file names (reference §3)
//   mesh/test/render/  ...                              for query and bounding_box_test images
//   ground_truth.jsonl   one line per image: split, file, pid, camera, yaw, pose, degradations, shape, outfit
//   cameras.json         the camera installations (viewpoint, light, colour response, background)
//   contact_sheet.png    a few test identities across cameras with their structure views
//   SYNTH_DATASET        version stamp: written last, so its presence means the folder is complete
//
// Train and test identities are disjoint. Every test identity has one query per visited camera (as Market
// does) and its other images in the gallery; the gallery also holds distractors with pid 0 (background crops
// and badly framed extra people). The output is a function of (spec, seed): thread count and scheduling do not
// change a byte.
//
//   std::string root = gcl::data::EnsureSyntheticDataset("quick", /*seed=*/1, "/tmp/gcl-cache");
//   // root == "/tmp/gcl-cache/synth_quick_seed1_v2", generated on the first call, reused afterwards.
#ifndef GCL_DATA_SYNTH_SYNTHETIC_WORLD_H_
#define GCL_DATA_SYNTH_SYNTHETIC_WORLD_H_

#include <cstdint>
#include <functional>
#include <string>

#include "data/synth/world_spec.h"

namespace gcl::data {

// Bumped whenever the generator's output changes for the same (spec, seed); part of the cache folder name.
inline constexpr int kSyntheticWorldVersion = 2;

struct GenerationSummary {
  int train_images = 0;
  int query_images = 0;
  int gallery_images = 0;  // including distractors
  int distractor_images = 0;
  int train_ids = 0;
  int test_ids = 0;
  double seconds = 0.0;
};

// Writes the dataset to `out_dir`, which must not exist yet: the data is generated in a temporary sibling
// folder and renamed at the end, so `out_dir` is either absent or complete. `threads` <= 0 uses every core.
// A process killed mid-way leaves its hidden `.<name>.tmp-<pid>-<n>` sibling behind; it is safe to delete.
// Throws std::runtime_error naming the path or spec field on failure.
// `progress`, when set, is called with (images written, images in total) as images are written, from the
// generating threads but never two calls at once.
using GenerationProgress = std::function<void(size_t done, size_t total)>;
GenerationSummary GenerateSyntheticDataset(const WorldSpec& spec, uint64_t seed, const std::string& out_dir,
                                           int threads = 0, const GenerationProgress& progress = nullptr);

// The folder name EnsureSyntheticDataset uses: synth_<preset>_seed<seed>_v<version>.
std::string SyntheticDatasetName(const std::string& preset, uint64_t seed);

// Returns `<cache_dir>/<SyntheticDatasetName>` after making sure it holds a complete dataset of this version,
// preset and seed: reused when its stamp matches, generated (atomically) when absent. A folder whose stamp is
// missing or different is an error naming it (it is never deleted here).
std::string EnsureSyntheticDataset(const std::string& preset, uint64_t seed, const std::string& cache_dir,
                                   int threads = 0, const GenerationProgress& progress = nullptr);

// True when `dataset_dir` holds a complete dataset generated from exactly (spec, seed) by this version.
bool IsCompleteSyntheticDataset(const std::string& dataset_dir, const WorldSpec& spec, uint64_t seed);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_SYNTHETIC_WORLD_H_

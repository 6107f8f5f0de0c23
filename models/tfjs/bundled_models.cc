#include "models/tfjs/bundled_models.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace gcl::models::tfjs {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> SearchFolders() {
  std::vector<fs::path> folders;
  if (const char* dir = std::getenv(kHumanModelsDirEnv); dir != nullptr && *dir != '\0') folders.emplace_back(dir);
  for (const char* env : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (const char* dir = std::getenv(env); dir != nullptr && *dir != '\0') {
      folders.push_back(fs::path(dir) / "human_models" / "models");
    }
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) folders.push_back(fs::path(exe.string() + ".runfiles") / "human_models" / "models");
  return folders;
}

}  // namespace

const std::vector<std::string>& BundledModelNames() {
  static const auto* names =
      new std::vector<std::string>{"movenet-thunder", "movenet-lightning", "blazepose-detector", "blazepose-full"};
  return *names;
}

bool IsBundledModel(const std::string& name) {
  const std::vector<std::string>& names = BundledModelNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string BundledModelJson(const std::string& name) {
  if (!IsBundledModel(name)) {
    std::string list;
    for (const std::string& n : BundledModelNames()) list += (list.empty() ? "" : ", ") + n;
    throw std::runtime_error("'" + name + "' is not one of the bundled TF.js models (" + list + ")");
  }
  std::string searched;
  for (const fs::path& folder : SearchFolders()) {
    const fs::path json = folder / (name + ".json");
    std::error_code ec;
    if (fs::is_regular_file(json, ec)) return json.string();
    searched += "\n  " + folder.string();
  }
  throw std::runtime_error("bundled TF.js model '" + name + "' not found; looked in:" + searched +
                           "\nA Bazel target that uses it needs \"@human_models//:" +
                           std::string(name).replace(name.find('-'), 1, "_") +
                           "\" in its data; outside Bazel, set " + kHumanModelsDirEnv +
                           " to a folder holding " + name + ".json and " + name + ".bin");
}

}  // namespace gcl::models::tfjs

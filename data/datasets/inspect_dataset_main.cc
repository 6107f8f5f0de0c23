// Loads a dataset with the loaders of reid_dataset.h and prints what it found, or the loader's error.
//
//   bazel run //data/datasets:inspect_dataset -- --name market1501 --root /data/market1501
//       --mesh_dir /data/mesh/market [--check none|header|decode] [--threads 2] [--msmt_one_based_cameras]
//
// Exit status 0 when the dataset loads, 1 with the error message otherwise, 2 for bad arguments.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "common/user_path.h"
#include "data/datasets/reid_dataset.h"

namespace {

constexpr char kUsage[] =
    "usage: inspect_dataset --name market1501|dukemtmc-reid|msmt17|folder|csv --root PATH [--mesh_dir DIR] "
    "[--check none|header|decode] [--threads N] [--camera_regex RE] [--msmt_one_based_cameras] "
    "[--test_structures]\n";

int Usage(const std::string& problem) {
  std::fprintf(stderr, "inspect_dataset: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

void PrintSplit(const char* name, const gcl::data::ReidSplit& split) {
  int with_renders = 0;
  for (const gcl::data::ImageRecord& r : split.records) with_renders += r.has_structures();
  std::printf("  %-8s %7zu images %6d ids %4d cameras %7d with renders   %s\n", name, split.records.size(),
              split.num_pids, split.num_cameras, with_renders, split.source.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string name;
  std::string root;
  gcl::data::DatasetOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      return 0;
    } else if (arg == "--name") {
      name = value();
    } else if (arg == "--root") {
      root = gcl::UserPath(value());
    } else if (arg == "--mesh_dir") {
      options.mesh_dir = gcl::UserPath(value());
    } else if (arg == "--check") {
      const std::string check = value();
      if (check == "none") {
        options.image_check = gcl::data::ImageCheck::kNone;
      } else if (check == "header") {
        options.image_check = gcl::data::ImageCheck::kHeader;
      } else if (check == "decode") {
        options.image_check = gcl::data::ImageCheck::kDecode;
      } else {
        return Usage("--check must be none, header or decode, got '" + check + "'");
      }
    } else if (arg == "--threads") {
      options.threads = std::atoi(value().c_str());
      if (options.threads < 1) return Usage("--threads must be >= 1");
    } else if (arg == "--camera_regex") {
      options.camera_regex = value();
    } else if (arg == "--msmt_one_based_cameras") {
      options.msmt_one_based_cameras = true;
    } else if (arg == "--test_structures") {
      options.gallery_structures = true;
      options.query_structures = true;
    } else {
      return Usage("unknown argument '" + arg + "'");
    }
  }
  if (name.empty() || root.empty()) return Usage("--name and --root are required");
  try {
    const gcl::data::ReidDataset d = gcl::data::LoadDataset(name, root, options);
    std::printf("%s at %s\n", d.name.c_str(), d.root.c_str());
    PrintSplit("train", d.train);
    PrintSplit("query", d.query);
    PrintSplit("gallery", d.gallery);
    std::printf("  junk (pid -1) dropped: %d, unreadable images skipped: %d\n", d.junk_dropped, d.corrupt.count);
    for (const std::string& p : d.corrupt.first_paths) std::printf("    skipped %s\n", p.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "inspect_dataset: %s\n", e.what());
    return 1;
  }
  return 0;
}

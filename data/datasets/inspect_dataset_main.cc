// Loads a dataset with the loaders of reid_dataset.h and prints what it found, or the loader's error.
//
//   bazel run //data/datasets:inspect_dataset -- --name=market1501 --root=/data/market1501
//       --mesh_dir=/data/mesh/market [--check=none|header|decode] [--threads=2] [--msmt_one_based_cameras]
//
// Exit status 0 when the dataset loads, 1 with the error message otherwise, 2 for bad arguments.
#include <cstdio>
#include <string>

#include "common/flags.h"
#include "common/user_path.h"
#include "data/datasets/reid_dataset.h"

namespace {

void PrintSplit(const char* name, const gcl::data::ReidSplit& split) {
  int with_renders = 0;
  for (const gcl::data::ImageRecord& r : split.records) with_renders += r.has_structures();
  std::printf("  %-8s %7zu images %6d ids %4d cameras %7d with renders   %s\n", name, split.records.size(),
              split.num_pids, split.num_cameras, with_renders, split.source.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  return gcl::RunCommand("inspect_dataset", 1, [&]() -> int {
    std::string name, root, check = "header";
    bool test_structures = false;
    gcl::data::DatasetOptions options;
    gcl::FlagSet flags("inspect_dataset", "inspect_dataset --name=NAME --root=PATH [flags]",
                       "Loads a dataset as training would and reports its splits, or what is wrong with it.");
    flags.String("name", &name, "market1501|dukemtmc-reid|msmt17|folder|csv", "the dataset's layout").Required();
    flags.String("root", &root, "PATH", "the dataset folder (the CSV file for csv)").Required();
    flags.String("mesh_dir", &options.mesh_dir, "DIR", "GCL's mesh-render folder (train/render/, render_45/, ...)");
    flags.String("check", &check, "none|header|decode",
                 "how images are checked: header reads each file (complete, within --max_image_pixels),\n"
                 "decode also decodes it");
    flags.Int64("max_image_pixels", &options.max_image_pixels, "images with more pixels are unusable").Min(1);
    flags.Int("threads", &options.threads, "threads for the image checks").Min(1).Max(4096);
    flags.String("camera_regex", &options.camera_regex, "RE", "folder datasets: the camera token of a file name");
    flags.Bool("msmt_one_based_cameras", &options.msmt_one_based_cameras, "MSMT17 cameras 1..15 as the reference");
    flags.Bool("test_structures", &test_structures, "query and gallery images need renders too");
    if (!flags.Parse(argc, argv)) return 0;
    if (check == "none") {
      options.image_check = gcl::data::ImageCheck::kNone;
    } else if (check == "header") {
      options.image_check = gcl::data::ImageCheck::kHeader;
    } else if (check == "decode") {
      options.image_check = gcl::data::ImageCheck::kDecode;
    } else {
      throw gcl::FlagError("--check=" + check + ": must be none, header or decode");
    }
    options.gallery_structures = options.query_structures = test_structures;
    if (!options.mesh_dir.empty()) options.mesh_dir = gcl::UserPath(options.mesh_dir);
    const gcl::data::ReidDataset d = gcl::data::LoadDataset(name, gcl::UserPath(root), options);
    std::printf("%s at %s\n", d.name.c_str(), d.root.c_str());
    PrintSplit("train", d.train);
    PrintSplit("query", d.query);
    PrintSplit("gallery", d.gallery);
    std::printf("  junk (pid -1) dropped: %d, unusable images skipped: %d\n", d.junk_dropped, d.corrupt.count);
    for (size_t i = 0; i < d.corrupt.first_paths.size(); ++i) {
      std::printf("    skipped %s: %s\n", d.corrupt.first_paths[i].c_str(), d.corrupt.first_problems[i].c_str());
    }
    return 0;
  });
}

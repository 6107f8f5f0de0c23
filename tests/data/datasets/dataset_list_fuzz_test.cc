// The CSV dataset loader (data/datasets/reid_dataset.h, LoadCsvDataset) fed seeded random mutations of a real list
// whose images exist, with the header check on: every mutant loads or is refused with a std::exception naming the
// file, within 10 s and a 256 MB memory budget (issue 18).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "data/datasets/reid_dataset.h"
#include "tests/data/datasets/fixtures.h"
#include "tests/support/hostile_input.h"

namespace gcl::data {
namespace {

using gcl::testing_support::FuzzFile;
using gcl::testing_support::FuzzOptions;
using gcl::testing_support::FuzzReport;

TEST(DatasetListFuzz, CsvDataset) {
  testing::TempDir dir;
  std::string csv = "path,split,pid,camid\n";
  for (int i = 0; i < 12; ++i) {
    const std::string image = "img/" + std::to_string(i) + ".jpg";
    testing::WriteJpeg(dir.path() + "/" + image, 16, 8, 10 * i);
    csv += image + "," +
           (i < 8    ? "train"
            : i < 10 ? "query"
                     : "gallery") +
           "," + std::to_string(i / 2) + "," + std::to_string(i % 3) + "\n";
  }
  FuzzOptions options;
  options.seed = 1;
  options.iterations = 3000;
  options.limits.seconds = 10;
  options.limits.memory_bytes = uint64_t{256} << 20;
  const FuzzReport r = FuzzFile({csv}, dir.path() + "/data.csv", options, [](const std::string& path) {
    DatasetOptions o;
    o.image_check = ImageCheck::kHeader;
    o.max_corrupt_fraction = 0.5;
    LoadCsvDataset(path, o);
  });
  EXPECT_GT(r.returned, 0);
  EXPECT_GT(r.threw, 0);
  std::printf("CSV datasets: %d loaded, %d refused, slowest %.3f s\n", r.returned, r.threw, r.slowest_seconds);
}

}  // namespace
}  // namespace gcl::data

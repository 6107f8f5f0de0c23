// The feature-file readers (clustering/feature_io.h) fed seeded random mutations of real files: .npy matrices in
// format versions 1.0 and 2.0 and sample CSVs with quoted paths. Every mutant is read within 10 s and a 256 MB
// memory budget and either reads or is refused with a std::exception (issue 18: a 256-byte .npy once allocated
// 4 GB).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "clustering/feature_io.h"
#include "tests/support/child_process.h"
#include "tests/support/hostile_input.h"

namespace gcl::clustering {
namespace {

using testing_support::FuzzFile;
using testing_support::FuzzOptions;
using testing_support::FuzzReport;
using testing_support::TestTmpDir;

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

FuzzOptions Options(uint64_t seed, int iterations, size_t focus) {
  FuzzOptions o;
  o.seed = seed;
  o.iterations = iterations;
  o.limits.seconds = 10;
  o.limits.memory_bytes = uint64_t{256} << 20;
  o.focus.bytes = focus;
  return o;
}

TEST(FeatureIoFuzz, Npy) {
  const std::string v1 = (TestTmpDir() / "v1.npy").string();
  std::vector<float> values(40 * 16);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 97) / 97.f - 0.5f;
  WriteNpy(v1, values.data(), 40, 16);
  // Version 2.0: a 4-byte header length (numpy writes it for headers above 64 KiB).
  std::string v2 = Bytes(v1);
  const uint32_t header = static_cast<uint8_t>(v2[8]) | (static_cast<uint8_t>(v2[9]) << 8);
  v2[6] = 2;
  v2.replace(8, 2, std::string{static_cast<char>(header & 0xFF), static_cast<char>(header >> 8), 0, 0});
  const FuzzReport r = FuzzFile({Bytes(v1), v2}, TestTmpDir() / "mutant.npy", Options(1, 6000, 140),
                                [](const std::string& path) { ReadNpy(path); });
  EXPECT_GT(r.returned, 0);
  EXPECT_GT(r.threw, 0);
  std::printf(".npy: %d read, %d refused, slowest %.3f s\n", r.returned, r.threw, r.slowest_seconds);
}

TEST(FeatureIoFuzz, SampleCsv) {
  const std::string csv = (TestTmpDir() / "samples.csv").string();
  std::vector<SampleInfo> samples;
  for (int i = 0; i < 30; ++i) {
    samples.push_back({i % 7 == 0 ? "dir,with comma/\"q\"_" + std::to_string(i) + ".jpg"
                                  : "bounding_box_test/" + std::to_string(i) + "_c1s1_000151_01.jpg",
                       i % 5 - 1, i % 6});
  }
  WriteSampleCsv(csv, samples);
  const FuzzReport r = FuzzFile({Bytes(csv)}, TestTmpDir() / "mutant.csv", Options(2, 6000, 0),
                                [](const std::string& path) { ReadSampleCsv(path); });
  EXPECT_GT(r.returned, 0);
  EXPECT_GT(r.threw, 0);
  std::printf("sample CSV: %d read, %d refused, slowest %.3f s\n", r.returned, r.threw, r.slowest_seconds);
}

}  // namespace
}  // namespace gcl::clustering

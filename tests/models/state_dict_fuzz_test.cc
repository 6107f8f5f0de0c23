// The checkpoint readers (models/state_dict.h) fed seeded random mutations of real files: the torch.save fixtures
// written by Python (zip and legacy formats) and safetensors files. Every mutant is read within 10 s and a 512 MB
// memory budget (tests/support/hostile_input.h) and either reads or is refused with a std::exception: never a
// crash, a hang or an unbounded allocation.
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "models/state_dict.h"
#include "tests/support/child_process.h"
#include "tests/support/hostile_input.h"

namespace gcl::models {
namespace {

using testing_support::Focus;
using testing_support::FuzzFile;
using testing_support::FuzzOptions;
using testing_support::FuzzReport;
using testing_support::TestTmpDir;

const std::string kData = "tests/testdata/models/";

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

FuzzOptions Options(uint64_t seed, int iterations, Focus focus = {}) {
  FuzzOptions o;
  o.seed = seed;
  o.iterations = iterations;
  o.limits.seconds = 10;
  o.limits.memory_bytes = uint64_t{512} << 20;
  o.focus = focus;
  return o;
}

void ExpectBothOutcomes(const FuzzReport& r, const std::string& what) {
  // Some mutants change only values and still read; most damage the structure and are refused.
  EXPECT_GT(r.returned, 0) << what;
  EXPECT_GT(r.threw, 0) << what;
  std::printf("%s: %d read, %d refused, slowest %.3f s\n", what.c_str(), r.returned, r.threw, r.slowest_seconds);
}

// The pickle of a torch.save archive, mutated and written back into a valid archive with the original storages:
// mutating the archive itself would mostly be caught by the zip's checksums before the unpickler sees it.
TEST(StateDictFuzz, PicklesOfZipArchives) {
  uint64_t seed = 1;
  for (const std::string fixture : {"pickle_cases.pth", "pickle_cases_protocol4.pth", "jvtc_r50_w32.pth"}) {
    caffe2::serialize::PyTorchStreamReader reader(kData + fixture);
    std::vector<std::pair<std::string, std::string>> records;
    std::string pickle;
    for (const std::string& name : reader.getAllRecords()) {
      if (name == "version") continue;  // the writer adds its own
      at::DataPtr ptr;
      size_t n = 0;
      std::tie(ptr, n) = reader.getRecord(name);
      std::string bytes(static_cast<const char*>(ptr.get()), n);
      (name == "data.pkl" ? pickle : records.emplace_back(name, "").second) = std::move(bytes);
    }
    const std::string archive = (TestTmpDir() / ("mutant_" + fixture)).string();
    const FuzzReport r =
        FuzzFile({pickle}, TestTmpDir() / "data.pkl", Options(seed++, 1000), [&](const std::string& pickle_path) {
          const std::string mutant = Bytes(pickle_path);
          {
            caffe2::serialize::PyTorchStreamWriter writer(archive);
            writer.writeRecord("data.pkl", mutant.data(), mutant.size());
            for (const auto& [name, bytes] : records) {
              writer.writeRecord(name, bytes.data(), bytes.size());
            }
            writer.writeEndOfFile();
          }
          ReadCheckpoint(archive);
        });
    ExpectBothOutcomes(r, "data.pkl of " + fixture);
  }
}

// The legacy format keeps its pickles at the start of the file, unchecksummed, then the raw storages.
TEST(StateDictFuzz, LegacyFiles) {
  const FuzzReport r = FuzzFile({Bytes(kData + "pickle_cases_legacy.pth"), Bytes(kData + "jvtc_r50_w32_legacy.pth")},
                                TestTmpDir() / "legacy.pth", Options(11, 4000, {4096, false}),
                                [](const std::string& path) { ReadCheckpoint(path); });
  ExpectBothOutcomes(r, "legacy .pth");
}

// The zip container itself: most edits land in the central directory at the end, where the record sizes live.
TEST(StateDictFuzz, ZipContainers) {
  const FuzzReport r = FuzzFile({Bytes(kData + "pickle_cases.pth"), Bytes(kData + "pickle_cases_protocol4.pth")},
                                TestTmpDir() / "container.pth", Options(21, 3000, {1024, true}),
                                [](const std::string& path) { ReadCheckpoint(path); });
  EXPECT_GT(r.threw, 0);
  std::printf("zip containers: %d read, %d refused, slowest %.3f s\n", r.returned, r.threw, r.slowest_seconds);
}

// safetensors written by Python and by WriteSafetensors; most edits land in the JSON header.
TEST(StateDictFuzz, Safetensors) {
  const std::string ours = (TestTmpDir() / "ours.safetensors").string();
  WriteSafetensors(ours, {{"a", torch::randn({3, 2})}, {"b", torch::arange(6)}, {"c", torch::ones({0})}},
                   {{"format", "gcl.identity_encoder"}, {"note", "\\u00e9"}});
  std::vector<std::string> samples = {Bytes(kData + "imagenet_r18_w16.safetensors"), Bytes(ours)};
  size_t header = 0;
  for (const std::string& s : samples) {
    uint64_t length = 0;
    std::memcpy(&length, s.data(), 8);
    header = std::max<size_t>(header, 8 + length);
  }
  const FuzzReport r = FuzzFile(samples, TestTmpDir() / "mutant.safetensors", Options(31, 4000, {header, false}),
                                [](const std::string& path) { ReadCheckpoint(path); });
  ExpectBothOutcomes(r, "safetensors");
}

}  // namespace
}  // namespace gcl::models

#include "clustering/feature_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/hostile_input.h"

namespace gcl::clustering {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Builds a version-1.0 .npy file byte by byte, so the reader is checked against the format, not the writer.
std::string NpyBytes(const std::string& dict, const std::vector<float>& values) {
  std::string header = dict;
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return bytes;
}

template <typename Fn>
std::string ErrorOf(Fn fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(FeatureIo, NpyRoundTrip) {
  const std::string path = TempPath("round.npy");
  const std::vector<float> values = {1.f, -2.5f, 3.f, 0.f, 1e-8f, 7.f};
  WriteNpy(path, values.data(), 2, 3);
  const FeatureMatrix m = ReadNpy(path);
  EXPECT_EQ(m.rows, 2);
  EXPECT_EQ(m.cols, 3);
  EXPECT_EQ(m.data, values);
}

TEST(FeatureIo, ReadsHandMadeNpy) {
  const std::string path = TempPath("hand.npy");
  WriteText(path, NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }", {4.f, 5.f, 6.f}));
  const FeatureMatrix m = ReadNpy(path);
  EXPECT_EQ(m.rows, 3);
  EXPECT_EQ(m.cols, 1);
  EXPECT_EQ(m.data, (std::vector<float>{4.f, 5.f, 6.f}));
}

TEST(FeatureIo, NpyErrorsNameFileAndProblem) {
  const std::string path = TempPath("bad.npy");
  WriteText(path, "hello world, not numpy");
  EXPECT_THAT(ErrorOf([&] { ReadNpy(path); }), HasSubstr("bad.npy: not a .npy file"));

  WriteText(path, NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", {0.f, 0.f}));
  EXPECT_THAT(ErrorOf([&] { ReadNpy(path); }), HasSubstr("'<f8' is not supported"));

  WriteText(path, NpyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", {0.f}));
  EXPECT_THAT(ErrorOf([&] { ReadNpy(path); }), HasSubstr("Fortran"));

  WriteText(path, NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", {0.f, 1.f, 2.f}));
  EXPECT_THAT(ErrorOf([&] { ReadNpy(path); }), HasSubstr("expected a 2-D array"));

  WriteText(path, NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", {0.f, 1.f, 2.f}));
  EXPECT_THAT(ErrorOf([&] { ReadNpy(path); }), HasSubstr("truncated data"));

  const float nan = std::numeric_limits<float>::quiet_NaN();
  WriteText(path, NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", {0.f, 1.f, nan, 2.f}));
  EXPECT_THAT(ErrorOf([&] { ReadNpy(path); }), HasSubstr("NaN or Inf) at row 1, column 0"));
  EXPECT_TRUE(std::isnan(ReadNpy(path, /*allow_non_finite=*/true).data[2]));

  EXPECT_THAT(ErrorOf([&] { ReadNpy(TempPath("missing.npy")); }), HasSubstr("missing.npy: cannot open"));
}

// Issue 18: a 256-byte .npy whose header claims 1e9 x 1 floats made `cluster` allocate 4 GB and take 14 s before
// saying "truncated"; 1e11 ended in a bare std::bad_alloc; a dimension beyond int64 said "stoll". The sizes are now
// checked against the file first: each is refused at once, within a 256 MB memory budget.
TEST(FeatureIo, HostileShapesAreRefusedBeforeAllocating) {
  const std::string path = TempPath("claims.npy");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"(1000000000, 1)", "truncated data: the header promises 1000000000 x 1 float32 values, the file holds "},
      {"(100000000000, 1)", "truncated data: the header promises 100000000000 x 1 float32 values"},
      {"(1, 100000000000)", "truncated data: the header promises 1 x 100000000000 float32 values"},
      {"(99999999999999999999, 1)", "npy header 'shape' has a bad dimension '99999999999999999999'"},
  };
  for (const auto& [shape, expected] : cases) {
    const std::string bytes =
        NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", std::vector<float>(32, 1.f));
    ASSERT_LE(bytes.size(), 256u);
    WriteText(path, bytes);
    const testing_support::Outcome o =
        testing_support::RunBounded("ReadNpy " + shape, {10, uint64_t{256} << 20}, [&] { ReadNpy(path); });
    EXPECT_EQ(o.kind, testing_support::Outcome::Kind::kThrew) << shape << ": " << o.message;
    EXPECT_THAT(o.message, HasSubstr(expected)) << shape;
    EXPECT_LT(o.seconds, 1.0) << shape;
  }
}

TEST(FeatureIo, CsvRoundTripWithQuotedPaths) {
  const std::string path = TempPath("samples.csv");
  const std::vector<SampleInfo> samples = {
      {"bounding_box_test/0001_c1s1_000151_01.jpg", 1, 0},
      {"odd,name \"x\".jpg", -1, 5},
      {"0000_c6s3_094992_01.jpg", 0, 5},
  };
  WriteSampleCsv(path, samples);
  const std::vector<SampleInfo> back = ReadSampleCsv(path);
  ASSERT_EQ(back.size(), samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(back[i].path, samples[i].path);
    EXPECT_EQ(back[i].pid, samples[i].pid);
    EXPECT_EQ(back[i].camid, samples[i].camid);
  }
}

TEST(FeatureIo, CsvWithoutHeaderAndCrlf) {
  const std::string path = TempPath("plain.csv");
  WriteText(path, "a.jpg,3,1\r\nb.jpg,4,2\r\n");
  const std::vector<SampleInfo> s = ReadSampleCsv(path);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].path, "b.jpg");
  EXPECT_EQ(s[1].pid, 4);
  EXPECT_EQ(s[1].camid, 2);
}

TEST(FeatureIo, CsvErrors) {
  const std::string path = TempPath("bad.csv");
  WriteText(path, "path,pid,camid\na.jpg,1\n");
  EXPECT_THAT(ErrorOf([&] { ReadSampleCsv(path); }), HasSubstr("bad.csv: line 2 has 2 fields"));
  WriteText(path, "a.jpg,one,1\n");
  EXPECT_THAT(ErrorOf([&] { ReadSampleCsv(path); }), HasSubstr("line 1: pid 'one' is not an integer"));
  WriteText(path, "\"a.jpg,1,1\n");
  EXPECT_THAT(ErrorOf([&] { ReadSampleCsv(path); }), HasSubstr("unterminated quote"));
}

TEST(FeatureIo, FeatureSetChecksRowCounts) {
  const std::string npy = TempPath("set.npy");
  const std::string csv = TempPath("set.csv");
  const std::vector<float> values = {1.f, 0.f, 0.f, 1.f};
  const std::vector<SampleInfo> samples = {{"a.jpg", 1, 0}, {"b.jpg", 2, 1}};
  WriteFeatureSet(npy, csv, values.data(), 2, 2, samples);
  const FeatureSet set = ReadFeatureSet(npy, csv);
  EXPECT_EQ(set.features.data, values);
  EXPECT_EQ(set.samples[1].path, "b.jpg");

  WriteSampleCsv(csv, {{"a.jpg", 1, 0}});
  EXPECT_THAT(ErrorOf([&] { ReadFeatureSet(npy, csv); }),
              HasSubstr("shape mismatch: " + npy + " has 2 rows but " + csv + " has 1 samples"));
  EXPECT_THAT(ErrorOf([&] { WriteFeatureSet(npy, csv, values.data(), 2, 2, {{"a.jpg", 1, 0}}); }),
              HasSubstr("2 feature rows but 1 samples"));
}

}  // namespace
}  // namespace gcl::clustering

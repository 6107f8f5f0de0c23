// Runs the cluster and evaluate commands on small feature files: output formats and bad-input errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "clustering/feature_io.h"
#include "tests/clustering/test_data.h"

namespace gcl::clustering {
namespace {

using ::testing::HasSubstr;

std::string Tmp(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

std::string Binary(const std::string& path) {  // below the runfiles root
  return std::string(std::getenv("TEST_SRCDIR")) + "/gcl_cpp/" + path;
}

struct Result {
  int code;
  std::string output;  // stdout and stderr.
};

Result RunCommand(const std::string& command) {
  Result r{0, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::array<char, 4096> buffer;
  size_t got = 0;
  while ((got = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), got);
  const int status = pclose(pipe);
  r.code = WEXITSTATUS(status);
  return r;
}

// 40 identities x 10 images in 16 dimensions; camera = image index % 4.
void WriteSet(const std::string& stem, uint32_t seed, int64_t n = 400) {
  std::vector<int> identity;
  const std::vector<float> x = testing::ClusteredUnitVectors(n, 16, 40, 0.05, seed, &identity);
  std::vector<SampleInfo> s;
  for (int64_t i = 0; i < n; ++i) s.push_back({"img_" + std::to_string(i) + ".jpg", identity[i], i % 4});
  WriteFeatureSet(Tmp(stem + ".npy"), Tmp(stem + ".csv"), x.data(), n, 16, s);
}

TEST(ClusterCommand, PrintsTableJsonAndWritesLabels) {
  WriteSet("train", 1);
  const std::string args = " --features=" + Tmp("train.npy") + " --samples=" + Tmp("train.csv");
  const Result table = RunCommand(Binary("clustering/cluster") + args + " --eps=0.55 --output=" + Tmp("labels.csv"));
  ASSERT_EQ(table.code, 0) << table.output;
  EXPECT_THAT(table.output, HasSubstr("samples 400  clusters ")) << table.output;
  EXPECT_THAT(table.output, HasSubstr("cluster size histogram"));
  std::ifstream labels(Tmp("labels.csv"));
  std::string header, first;
  std::getline(labels, header);
  std::getline(labels, first);
  EXPECT_EQ(header, "path,pid,camid,label");
  EXPECT_THAT(first, HasSubstr("img_0.jpg,"));

  const Result json = RunCommand(Binary("clustering/cluster") + args + " --rho=0.01 --json");
  ASSERT_EQ(json.code, 0) << json.output;
  EXPECT_THAT(json.output, HasSubstr("{\"samples\": 400, \"clusters\": "));
  EXPECT_THAT(json.output, HasSubstr("\"eps_rule\": \"rho\""));
  EXPECT_THAT(json.output, HasSubstr("\"seconds\": {\"knn\": "));
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(ClusterCommand, OutputNamingAnInputIsRefusedAndTheInputKept) {
  WriteSet("own", 3);
  const std::string args = " --features=" + Tmp("own.npy") + " --samples=" + Tmp("own.csv") + " --eps=0.55";
  const std::string csv = ReadAll(Tmp("own.csv")), npy = ReadAll(Tmp("own.npy"));
  // The samples CSV, the features file, and the CSV again under another spelling of its path.
  for (const std::string& output : {Tmp("own.csv"), Tmp("own.npy"), Tmp("./own.csv")}) {
    const Result r = RunCommand(Binary("clustering/cluster") + args + " --output=" + output);
    EXPECT_NE(r.code, 0) << output << ": " << r.output;
    EXPECT_THAT(r.output, HasSubstr("would destroy it")) << r.output;
  }
  EXPECT_EQ(ReadAll(Tmp("own.csv")), csv);
  EXPECT_EQ(ReadAll(Tmp("own.npy")), npy);
}

TEST(EvaluateCommand, PerfectRetrievalAndJson) {
  WriteSet("set", 2);
  // Query = gallery: each query's own copy is the same pid in the same camera, so it is ignored; the other
  // images of its identity sit in other cameras and are far closer than any other identity.
  const std::string args = " --query_features=" + Tmp("set.npy") + " --query_samples=" + Tmp("set.csv") +
                           " --gallery_features=" + Tmp("set.npy") + " --gallery_samples=" + Tmp("set.csv");
  const Result table = RunCommand(Binary("evaluation/evaluate") + args);
  ASSERT_EQ(table.code, 0) << table.output;
  EXPECT_THAT(table.output, HasSubstr("100.00% 100.00% 100.00% 100.00% 100.00%"));
  const Result json = RunCommand(Binary("evaluation/evaluate") + args + " --rerank --json");
  ASSERT_EQ(json.code, 0) << json.output;
  EXPECT_THAT(json.output, HasSubstr("{\"mAP\": 1, \"rank1\": 1,"));
  EXPECT_THAT(json.output, HasSubstr("\"rerank\": true"));
}

TEST(Commands, BadInputErrorsNameTheProblem) {
  WriteSet("a", 3);
  WriteSet("b", 4, 300);
  const auto cluster = [&](const std::string& npy, const std::string& csv, const std::string& extra = "") {
    return RunCommand(Binary("clustering/cluster") + " --features=" + Tmp(npy) + " --samples=" + Tmp(csv) + extra);
  };
  Result r = cluster("a.npy", "b.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("shape mismatch: " + Tmp("a.npy") + " has 400 rows but " + Tmp("b.csv") +
                                  " has 300 samples"));
  r = cluster("missing.npy", "a.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("missing.npy: cannot open"));
  r = cluster("a.csv", "a.csv");  // Not a .npy file.
  EXPECT_THAT(r.output, HasSubstr("a.csv: not a .npy file"));
  r = cluster("a.npy", "a.csv", " --rho=0.002 --eps=0.5");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("give --rho or --eps, not both"));
  r = cluster("a.npy", "a.csv", " --k1=thirty");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("cluster: --k1=thirty: not a whole number"));
  r = cluster("a.npy", "a.csv", " --rho=nan");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("cluster: --rho=nan: not a finite number"));
  r = RunCommand(Binary("clustering/cluster") + " --feature=x");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("unknown flag --feature (did you mean --features?)"));
  r = RunCommand(Binary("clustering/cluster") + " --samples=x.csv");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("--features is required"));
  r = RunCommand(Binary("clustering/cluster") + " --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("usage: cluster --features=F.npy"));
  EXPECT_THAT(r.output, HasSubstr("--k1=N"));

  std::vector<float> nan(20 * 4, 0.5f);
  nan[13] = std::numeric_limits<float>::quiet_NaN();
  std::vector<SampleInfo> s(20, {"x.jpg", 1, 1});
  WriteFeatureSet(Tmp("nan.npy"), Tmp("nan.csv"), nan.data(), 20, 4, s);
  r = cluster("nan.npy", "nan.csv");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("nan.npy: non-finite value (NaN or Inf) at row 3, column 1"));

  WriteFeatureSet(Tmp("empty.npy"), Tmp("empty.csv"), nullptr, 0, 16, {});
  const std::string evaluate = Binary("evaluation/evaluate");
  r = RunCommand(evaluate + " --query_features=" + Tmp("empty.npy") + " --query_samples=" + Tmp("empty.csv") +
                 " --gallery_features=" + Tmp("a.npy") + " --gallery_samples=" + Tmp("a.csv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.output, HasSubstr("the query set is empty"));
  r = RunCommand(evaluate + " --query_features=" + Tmp("nan.npy") + " --query_samples=" + Tmp("nan.csv") +
                 " --gallery_features=" + Tmp("a.npy") + " --gallery_samples=" + Tmp("a.csv"));
  EXPECT_EQ(r.code, 1);
  r = RunCommand(evaluate + " --query_features=" + Tmp("a.npy") + " --query_samples=" + Tmp("a.csv") +
                 " --gallery_features=" + Tmp("a.npy") + " --gallery_samples=" + Tmp("a.csv") + " --k1=5");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("need --rerank"));
}

}  // namespace
}  // namespace gcl::clustering

// Feature files shared by extraction, clustering and evaluation: a `.npy` matrix (float32, N x D, C order)
// and a CSV with one `path,pid,camid` row per matrix row, in the same order.
//
// Plain C++ (no LibTorch), so any command can read or write them cheaply. A LibTorch caller passes
// `tensor.contiguous().data_ptr<float>()` of a CPU float tensor to WriteNpy, and wraps a FeatureMatrix with
// `torch::from_blob(m.data.data(), {m.rows, m.cols}).clone()`.
//
//   gcl::clustering::WriteFeatureSet("q.npy", "q.csv", feats.data(), n, d, samples);
//   const gcl::clustering::FeatureSet set = gcl::clustering::ReadFeatureSet("q.npy", "q.csv");
//
// Every reader throws std::runtime_error naming the file and the problem (bad magic, unsupported dtype,
// Fortran order, wrong rank, truncated data, NaN/Inf, malformed CSV line, row-count mismatch). Writers go through
// a temporary file in the same folder and a rename, so a reader never sees half a file.
#ifndef GCL_CLUSTERING_FEATURE_IO_H_
#define GCL_CLUSTERING_FEATURE_IO_H_

#include <cstdint>
#include <string>
#include <vector>

namespace gcl::clustering {

// A dense row-major float32 matrix.
struct FeatureMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;  // rows * cols values, row-major.
};

// One image: its path, identity and camera. pid -1 marks junk (Market-1501), as in the reference loaders.
struct SampleInfo {
  std::string path;
  int64_t pid = 0;
  int64_t camid = 0;
};

struct FeatureSet {
  FeatureMatrix features;
  std::vector<SampleInfo> samples;  // samples.size() == features.rows.
};

// Reads a version 1.0, 2.0 or 3.0 `.npy` file holding a 2-D little-endian float32 array in C order.
// Non-finite values are an error unless allow_non_finite is set.
FeatureMatrix ReadNpy(const std::string& path, bool allow_non_finite = false);

// Writes rows x cols float32 values (row-major) as a version 1.0 `.npy` file.
void WriteNpy(const std::string& path, const float* data, int64_t rows, int64_t cols);

// Reads `path,pid,camid` rows. A first line that reads exactly `path,pid,camid` is a header and skipped.
// Paths may be double-quoted (RFC 4180, "" for a quote) when they hold commas or quotes.
std::vector<SampleInfo> ReadSampleCsv(const std::string& path);

// Writes a `path,pid,camid` header and one row per sample, quoting paths that need it.
void WriteSampleCsv(const std::string& path, const std::vector<SampleInfo>& samples);

// Reads both files and checks that they describe the same number of samples.
FeatureSet ReadFeatureSet(const std::string& npy_path, const std::string& csv_path);

// Writes both files; samples.size() must equal rows.
void WriteFeatureSet(const std::string& npy_path, const std::string& csv_path, const float* data, int64_t rows,
                     int64_t cols, const std::vector<SampleInfo>& samples);

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_FEATURE_IO_H_

// Small on-disk dataset trees for tests and benchmarks, written with OpenCV into a temporary folder.
//
//   gcl::data::testing::TempDir dir;                          // removed when it goes out of scope
//   gcl::data::testing::WriteJpeg(dir.path() + "/a.jpg", 16, 8, /*value=*/100);
//   gcl::data::testing::WriteMarketTree(dir.path() + "/market", dir.path() + "/mesh", spec);
#ifndef GCL_TESTS_DATA_DATASETS_FIXTURES_H_
#define GCL_TESTS_DATA_DATASETS_FIXTURES_H_

#include <string>
#include <vector>

namespace gcl::data::testing {

class TempDir {
 public:
  TempDir();  // under $TEST_TMPDIR (Bazel) or /tmp
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes a height x width JPEG (quality 95) whose pixels are `value` plus a small per-pixel pattern, creating
// parent folders. `value` lets tests tell images apart after decoding (e.g. a render's angle).
void WriteJpeg(const std::string& path, int height, int width, int value);

// Writes bytes that are not an image.
void WriteGarbage(const std::string& path);

void WriteText(const std::string& path, const std::string& text);

// Value written into the render of `angle` (0 = render/) so tests can check which render was loaded.
int RenderValue(int angle);

// One image of a Market-style tree.
struct FixtureImage {
  int pid;
  int camera;  // 1-based, as in the name
  int frame;
};

struct MarketSpec {
  std::vector<FixtureImage> train;
  std::vector<FixtureImage> query;
  std::vector<FixtureImage> gallery;
  int height = 16;
  int width = 8;
  std::string subfolder;     // e.g. "DukeMTMC-reID"; empty writes the splits directly under the root
  bool write_renders = true;  // <mesh>/train/render*/ for train, <mesh>/test/render*/ for query and gallery
};

// Writes `<root>/<subfolder>/{bounding_box_train, query, bounding_box_test}/PPPP_cCs1_FFFFFF_00.jpg` and the GCL
// render folders; returns the train image names written.
std::vector<std::string> WriteMarketTree(const std::string& root, const std::string& mesh, const MarketSpec& spec);

// A default spec: `train_pids` identities with `per_pid` images each over 6 cameras, 2 query and 3 gallery pids.
MarketSpec SmallMarketSpec(int train_pids, int per_pid);

}  // namespace gcl::data::testing

#endif  // GCL_TESTS_DATA_DATASETS_FIXTURES_H_

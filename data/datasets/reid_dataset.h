// Loaders of the person re-identification benchmarks and of generic datasets, each optionally paired with GCL's
// mesh-render folder (the structure images s_ori / s_new; reference §3 and §9).
//
//   gcl::data::DatasetOptions options;
//   options.mesh_dir = "/data/mesh/market";            // holds train/render/, train/render_45/, ...
//   gcl::data::ReidDataset market = gcl::data::LoadMarket1501("/data/market1501", options);
//   const gcl::data::ImageRecord& r = market.train.records[0];
//   // r.path, r.pid, r.camid (0-based), r.label (0..P-1), r.index, r.StructurePath(90)
//
// Conventions of the field (torchreid, fast-reid, and the reference where it agrees):
// - Market-1501: pid -1 (junk) images are dropped from every split; pid 0 ("0000" distractors) are kept.
// - cameras are 0-based in every dataset. The reference keeps MSMT17 cameras 1-based: set
//   `msmt_one_based_cameras` to reproduce that.
// - train pids are relabelled 0..P-1 in increasing pid order; query and gallery keep their pids, label -1.
// - MSMT17 train = list_train + list_val (32,621 images); pids come from the lists' label column.
// - every split is sorted by relative path, so record order (the memory row index) does not depend on the file
//   system; the reference uses unsorted glob order.
// Every problem with the input throws std::runtime_error naming the folder or file: missing split folder or list,
// unparsable names (count and first examples), missing renders (count and first examples), corrupt, truncated or
// oversized images past `max_corrupt_fraction` (below it they are skipped and counted in `ReidDataset::corrupt`),
// empty train set.
#ifndef GCL_DATA_DATASETS_REID_DATASET_H_
#define GCL_DATA_DATASETS_REID_DATASET_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/pipeline/image_header.h"

namespace gcl::data {

// The yaw angles of GCL's render folders: 0 is `render/` (s_ori), k*45 is `render_<k*45>/`.
inline constexpr std::array<int, 8> kRenderAngles = {0, 45, 90, 135, 180, 225, 270, 315};

// "render" for 0, "render_45" for 45, ...; throws std::invalid_argument for an angle not in kRenderAngles.
std::string RenderFolderName(int angle);

inline constexpr int kNoLabel = -1;

struct ImageRecord {
  std::string path;  // image file
  int pid = 0;       // identity as the benchmark numbers it (0 = distractor)
  int camid = 0;     // 0-based camera (1-based for MSMT17 with msmt_one_based_cameras); -1 when unknown
  int label = kNoLabel;  // train: relabelled pid 0..P-1; query/gallery: kNoLabel
  int index = 0;         // row in its split; for train the memory-bank row
  // Render path per angle, indexed like kRenderAngles (empty when the split has no renders).
  std::vector<std::string> structure_paths;

  bool has_structures() const { return !structure_paths.empty(); }
  // The render for `angle`; throws std::runtime_error if this record has no renders or the angle is not one of
  // kRenderAngles.
  const std::string& StructurePath(int angle) const;
};

struct ReidSplit {
  std::string source;  // the folder or list file the split was read from
  std::vector<ImageRecord> records;
  int num_pids = 0;     // distinct pids
  int num_cameras = 0;  // distinct camera ids
};

// Images that could not be used (missing, not an image, truncated, above max_image_pixels, undecodable) and
// were skipped.
struct CorruptImages {
  int count = 0;
  std::vector<std::string> first_paths;     // up to 5
  std::vector<std::string> first_problems;  // what was wrong with each of first_paths
};

struct ReidDataset {
  std::string name;  // "market1501", "dukemtmc-reid", "msmt17", "folder", "csv"
  std::string root;
  ReidSplit train;
  ReidSplit query;
  ReidSplit gallery;
  int junk_dropped = 0;  // Market pid -1 images dropped from all splits
  CorruptImages corrupt;
};

enum class ImageCheck {
  kNone,  // trust the files
  // Each file is read once, not decoded (data/pipeline/image_header.h): a JPEG, PNG or BMP that is complete (a
  // JPEG reaches its end-of-image marker, a PNG its IEND chunk, a BMP's pixel array fits) and within
  // max_image_pixels. Catches truncated files, which a decoder would fill with grey and only warn about.
  kHeader,
  kDecode,  // kHeader, then decode every image fully (a few seconds per 10k small JPEGs, using `threads`)
};

enum class MsmtVersion { kAuto, kV1, kV2 };

struct DatasetOptions {
  // GCL mesh-render root (e.g. examples/mesh/market); empty means no structure images. Train renders are
  // required: `<mesh_dir>/train/<render folder>/<image path relative to the split folder>` must exist for
  // every angle in `render_angles` (MSMT17 keeps the pid subfolder, reference §3).
  std::string mesh_dir;
  std::vector<int> render_angles = {kRenderAngles.begin(), kRenderAngles.end()};
  // Attach `<mesh_dir>/test/...` renders to gallery (and query) records too; they must then exist. The reference
  // only displays gallery renders; the synthetic world (data/synth) writes query renders there as well.
  bool gallery_structures = false;
  bool query_structures = false;
  ImageCheck image_check = ImageCheck::kHeader;
  // Fatal when more than this fraction of a split's images is corrupt (checked with image_check != kNone).
  double max_corrupt_fraction = 0.01;
  // Images whose header gives more pixels than this are unusable (checked with image_check != kNone): a photo
  // thousands of pixels wide in a person re-ID set is a mistake, and decoding it costs time and memory on every
  // epoch (data/pipeline/image_header.h).
  int64_t max_image_pixels = kDefaultMaxImagePixels;
  int threads = 1;  // for image checks
  // Reference behaviour for MSMT17 (§9): cameras as written, 1..15. Default: 0-based like every dataset.
  bool msmt_one_based_cameras = false;
  MsmtVersion msmt_version = MsmtVersion::kAuto;
  // Generic folder datasets: an ECMAScript regex with one capture group applied to the file name that yields
  // the camera token (e.g. "_c(\\d+)"); distinct tokens are numbered 0.. in sorted order. Empty: camid -1.
  std::string camera_regex;
};

// `root` holds bounding_box_train/, query/, bounding_box_test/ (directly or under Market-1501-v15.09.15/).
ReidDataset LoadMarket1501(const std::string& root, const DatasetOptions& options = {});

// `root` holds DukeMTMC-reID/{bounding_box_train, query, bounding_box_test}/ (or those folders directly).
ReidDataset LoadDukeMtmcReid(const std::string& root, const DatasetOptions& options = {});

// `root` holds MSMT17_V1/ (train/, test/) or MSMT17_V2/ (mask_train_v2/, mask_test_v2/) with list_train.txt,
// list_val.txt, list_query.txt and list_gallery.txt, or is one of those folders itself.
ReidDataset LoadMsmt17(const std::string& root, const DatasetOptions& options = {});

// `root` holds train/, query/ and gallery/, each with one subfolder per identity holding its images
// (.jpg/.jpeg/.png/.bmp). Identity folder names are numbered 0.. in sorted order over query and gallery together
// (so the same name is the same pid in both); train identities are numbered separately and relabelled the same
// way. Unlabelled training data may sit in a single identity folder. query/ and gallery/ may be absent together.
ReidDataset LoadFolderDataset(const std::string& root, const DatasetOptions& options = {});

// A CSV file with a header naming the columns `path`, `split` (train|query|gallery) and `pid`, and optionally
// `camid` (an integer; empty or absent means -1, unknown). Paths are relative to the CSV's folder unless
// absolute; the renders of an image are found at `<mesh_dir>/train/<render folder>/<path as written>`.
// No quoting: fields must not contain commas.
ReidDataset LoadCsvDataset(const std::string& csv_path, const DatasetOptions& options = {});

// Loads by name: "market1501", "dukemtmc-reid", "msmt17", "folder", "csv" (root is then the CSV file).
ReidDataset LoadDataset(const std::string& name, const std::string& root, const DatasetOptions& options = {});

}  // namespace gcl::data

#endif  // GCL_DATA_DATASETS_REID_DATASET_H_

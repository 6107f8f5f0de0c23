#include "data/datasets/reid_dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <opencv2/imgcodecs.hpp>

#include "data/datasets/reid_names.h"
#include "data/pipeline/image_header.h"
#include "data/pipeline/thread_pool.h"

namespace gcl::data {
namespace fs = std::filesystem;

namespace {

constexpr int kExamples = 5;

// An image found in a split before checks, relabelling and indexing.
struct RawItem {
  std::string path;      // the image file
  std::string relative;  // path below the split's image folder; the render has the same relative path
  int pid = 0;
  int camid = 0;
};

std::string JoinExamples(const std::vector<std::string>& examples) {
  std::string out;
  for (const std::string& e : examples) {
    if (!out.empty()) out += ", ";
    out += "'" + e + "'";
  }
  return out;
}

// Collects bad entries; Throw() reports how many and the first few.
class BadEntries {
 public:
  void Add(std::string example) {
    if (static_cast<int>(examples_.size()) < kExamples) examples_.push_back(std::move(example));
    ++count_;
  }
  int count() const { return count_; }
  void ThrowIfAny(const std::string& what) const {
    if (count_ == 0) return;
    throw std::runtime_error(what + ": " + std::to_string(count_) + " bad (first: " + JoinExamples(examples_) + ")");
  }

 private:
  int count_ = 0;
  std::vector<std::string> examples_;
};

void RequireDirectory(const fs::path& dir, const std::string& dataset, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw std::runtime_error(dataset + ": missing " + what + " folder " + dir.string());
  }
}

void RequireFile(const fs::path& file, const std::string& dataset, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw std::runtime_error(dataset + ": missing " + what + " " + file.string());
  }
}

bool HasImageExtension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// Regular files directly in `dir` whose extension passes `keep`, sorted by name.
std::vector<fs::path> ListFiles(const fs::path& dir, bool (*keep)(const fs::path&)) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && keep(e.path())) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool IsJpg(const fs::path& p) { return p.extension() == ".jpg"; }

// "" when the image can be used under `check`, otherwise what is wrong with it.
std::string ImageProblem(const std::string& path, ImageCheck check, int64_t max_pixels) {
  if (check == ImageCheck::kNone) return "";
  try {
    const std::string bytes = ReadCheckedImage(path, max_pixels);
    if (check == ImageCheck::kDecode) {
      const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
      if (cv::imdecode(raw, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION).empty()) return "corrupt image data";
    }
  } catch (const std::exception& e) {
    // ReadCheckedImage's message starts with the path, which the caller reports already.
    const std::string what = e.what();
    return what.rfind(path + ": ", 0) == 0 ? what.substr(path.size() + 2) : what;
  }
  return "";
}

// Drops unreadable images (counted in `corrupt`); throws when more than max_corrupt_fraction of the split is bad.
std::vector<RawItem> DropCorrupt(std::vector<RawItem> items, const std::string& dataset, const std::string& source,
                                 const DatasetOptions& options, CorruptImages* corrupt) {
  if (options.image_check == ImageCheck::kNone || items.empty()) return items;
  std::vector<std::string> problems(items.size());
  ThreadPool pool(std::max(1, options.threads));
  pool.ParallelFor(items.size(), [&](size_t i) {
    problems[i] = ImageProblem(items[i].path, options.image_check, options.max_image_pixels);
  });
  std::vector<RawItem> kept;
  std::vector<std::string> bad;
  for (size_t i = 0; i < items.size(); ++i) {
    if (problems[i].empty()) {
      kept.push_back(std::move(items[i]));
    } else {
      bad.push_back(items[i].path + " (" + problems[i] + ")");
      if (static_cast<int>(corrupt->first_paths.size()) < kExamples) {
        corrupt->first_paths.push_back(items[i].path);
        corrupt->first_problems.push_back(problems[i]);
      }
    }
  }
  if (bad.empty()) return kept;
  corrupt->count += static_cast<int>(bad.size());
  const double fraction = static_cast<double>(bad.size()) / static_cast<double>(items.size());
  if (fraction > options.max_corrupt_fraction) {
    const size_t bad_count = bad.size();
    bad.resize(std::min<size_t>(bad.size(), kExamples));
    throw std::runtime_error(dataset + ": " + std::to_string(bad_count) + " of " + std::to_string(items.size()) +
                             " images in " + source +
                             " are missing, unreadable, corrupt, truncated or too large, more than "
                             "max_corrupt_fraction " +
                             std::to_string(options.max_corrupt_fraction) + " (first: " + JoinExamples(bad) + ")");
  }
  return kept;
}

// Attaches `<split_mesh_dir>/<render folder>/<relative>` for every angle of kRenderAngles (empty strings for
// angles not in options.render_angles) and throws if any required render is missing.
void AttachStructures(std::vector<ImageRecord>* records, const std::vector<RawItem>& items,
                      const fs::path& split_mesh_dir, const std::string& dataset, const DatasetOptions& options) {
  std::vector<bool> wanted(kRenderAngles.size(), false);
  for (int angle : options.render_angles) {
    const auto it = std::find(kRenderAngles.begin(), kRenderAngles.end(), angle);
    if (it == kRenderAngles.end()) {
      throw std::runtime_error(dataset + ": DatasetOptions.render_angles holds " + std::to_string(angle) +
                               ", not one of 0, 45, ..., 315");
    }
    wanted[it - kRenderAngles.begin()] = true;
  }
  RequireDirectory(split_mesh_dir, dataset, "mesh-render");
  const size_t n = records->size();
  std::vector<char> missing(n * kRenderAngles.size(), 0);
  ThreadPool pool(std::max(1, options.threads));
  pool.ParallelFor(n, [&](size_t i) {
    ImageRecord& r = (*records)[i];
    r.structure_paths.assign(kRenderAngles.size(), std::string());
    for (size_t a = 0; a < kRenderAngles.size(); ++a) {
      if (!wanted[a]) continue;
      r.structure_paths[a] = (split_mesh_dir / RenderFolderName(kRenderAngles[a]) / items[i].relative).string();
      std::error_code ec;
      missing[i * kRenderAngles.size() + a] = !fs::is_regular_file(r.structure_paths[a], ec);
    }
  });
  BadEntries bad;
  for (size_t i = 0; i < n; ++i) {
    for (size_t a = 0; a < kRenderAngles.size(); ++a) {
      if (missing[i * kRenderAngles.size() + a]) bad.Add((*records)[i].structure_paths[a]);
    }
  }
  if (bad.count() > 0) {
    size_t needed = 0;
    for (bool w : wanted) needed += w;
    bad.ThrowIfAny(dataset + ": missing mesh renders under " + split_mesh_dir.string() + ", " +
                   std::to_string(bad.count()) + " of " + std::to_string(needed * n) + " expected files missing");
  }
}

int CountDistinctCameras(const std::vector<ImageRecord>& records) {
  std::set<int> cams;
  for (const ImageRecord& r : records) {
    if (r.camid >= 0) cams.insert(r.camid);
  }
  return static_cast<int>(cams.size());
}

// Sorts, checks images, relabels (train), numbers rows and attaches renders.
ReidSplit BuildSplit(std::vector<RawItem> items, bool is_train, const std::string& source,
                     const std::string& mesh_split, bool with_structures, const std::string& dataset,
                     const DatasetOptions& options, CorruptImages* corrupt) {
  std::sort(items.begin(), items.end(),
            [](const RawItem& a, const RawItem& b) { return a.relative < b.relative; });
  items = DropCorrupt(std::move(items), dataset, source, options, corrupt);
  ReidSplit split;
  split.source = source;
  std::set<int> pids;
  for (const RawItem& it : items) pids.insert(it.pid);
  std::map<int, int> relabel;
  for (int pid : pids) relabel.emplace(pid, static_cast<int>(relabel.size()));
  split.records.reserve(items.size());
  for (const RawItem& it : items) {
    ImageRecord r;
    r.path = it.path;
    r.pid = it.pid;
    r.camid = it.camid;
    r.label = is_train ? relabel.at(it.pid) : kNoLabel;
    r.index = static_cast<int>(split.records.size());
    split.records.push_back(std::move(r));
  }
  split.num_pids = static_cast<int>(pids.size());
  split.num_cameras = CountDistinctCameras(split.records);
  if (is_train && split.records.empty()) {
    throw std::runtime_error(dataset + ": the train set is empty (" + source + ")");
  }
  if (with_structures && !options.mesh_dir.empty()) {
    AttachStructures(&split.records, items, fs::path(options.mesh_dir) / mesh_split, dataset, options);
  }
  return split;
}

void ValidateOptions(const DatasetOptions& options, const std::string& dataset) {
  if (options.threads < 1) {
    throw std::runtime_error(dataset + ": DatasetOptions.threads must be >= 1, got " +
                             std::to_string(options.threads));
  }
  if (!(options.max_corrupt_fraction >= 0.0 && options.max_corrupt_fraction <= 1.0)) {
    throw std::runtime_error(dataset + ": DatasetOptions.max_corrupt_fraction must lie in [0, 1]");
  }
  if (options.max_image_pixels < 1) {
    throw std::runtime_error(dataset + ": DatasetOptions.max_image_pixels must be >= 1, got " +
                             std::to_string(options.max_image_pixels));
  }
}

// Market-1501 and DukeMTMC-reID share the layout and the name rule.
std::vector<RawItem> ReadMarketStyleSplit(const fs::path& dir, const std::string& dataset, int* junk_dropped) {
  RequireDirectory(dir, dataset, "split");
  std::vector<RawItem> items;
  BadEntries unparsable;
  for (const fs::path& file : ListFiles(dir, IsJpg)) {
    const std::string name = file.filename().string();
    MarketName parsed;
    if (!ParseMarketName(name, &parsed)) {
      unparsable.Add(name);
      continue;
    }
    if (parsed.pid == -1) {  // junk boxes (reference §9; torchreid does the same)
      ++*junk_dropped;
      continue;
    }
    if (parsed.pid < -1) {
      unparsable.Add(name);
      continue;
    }
    items.push_back({file.string(), name, parsed.pid, parsed.camera - 1});
  }
  unparsable.ThrowIfAny(dataset + ": unparsable image names in " + dir.string() +
                        " (expected <pid>_c<camera>..., e.g. 0002_c1s1_000451_03.jpg)");
  return items;
}

ReidDataset LoadMarketStyle(const std::string& name, const std::string& root, const std::string& subfolder,
                            const DatasetOptions& options) {
  ValidateOptions(options, name);
  fs::path base(root);
  std::error_code ec;
  if (!fs::is_directory(base / "bounding_box_train", ec) && fs::is_directory(base / subfolder, ec)) {
    base /= subfolder;
  }
  RequireDirectory(root, name, "dataset root");
  ReidDataset d;
  d.name = name;
  d.root = base.string();
  auto train = ReadMarketStyleSplit(base / "bounding_box_train", name, &d.junk_dropped);
  auto query = ReadMarketStyleSplit(base / "query", name, &d.junk_dropped);
  auto gallery = ReadMarketStyleSplit(base / "bounding_box_test", name, &d.junk_dropped);
  d.train = BuildSplit(std::move(train), true, (base / "bounding_box_train").string(), "train", true, name,
                       options, &d.corrupt);
  d.query = BuildSplit(std::move(query), false, (base / "query").string(), "test", options.query_structures, name,
                       options, &d.corrupt);
  d.gallery = BuildSplit(std::move(gallery), false, (base / "bounding_box_test").string(), "test",
                         options.gallery_structures, name, options, &d.corrupt);
  return d;
}

std::vector<RawItem> ReadMsmtList(const fs::path& list, const fs::path& image_dir, const DatasetOptions& options) {
  const std::string dataset = "msmt17";
  RequireFile(list, dataset, "list file");
  std::ifstream in(list);
  if (!in) throw std::runtime_error(dataset + ": cannot open list file " + list.string());
  std::vector<RawItem> items;
  BadEntries bad;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    MsmtListLine entry;
    MsmtName parsed;
    if (!ParseMsmtListLine(line, &entry) || !ParseMsmtName(entry.relative_path, &parsed)) {
      bad.Add("line " + std::to_string(line_number) + ": " + line);
      continue;
    }
    const int camid = options.msmt_one_based_cameras ? parsed.camera : parsed.camera - 1;
    items.push_back({(image_dir / entry.relative_path).string(), entry.relative_path, entry.label, camid});
  }
  bad.ThrowIfAny(dataset + ": unparsable lines in " + list.string() +
                 " (expected '<pid>/<pid>_<n>_<camera>_<date>_<frame>_<k>.jpg <label>')");
  return items;
}

// A (possibly empty) token captured by `re`, or false if the file name does not match.
bool CameraToken(const std::regex& re, const std::string& file_name, std::string* token) {
  std::smatch m;
  if (!std::regex_search(file_name, m, re) || m.size() < 2 || !m[1].matched) return false;
  *token = m[1].str();
  return true;
}

// Numbers tokens 0.. in order: numerically when both are integers, else as strings.
std::map<std::string, int> NumberTokens(const std::set<std::string>& tokens) {
  std::vector<std::string> sorted(tokens.begin(), tokens.end());
  std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
    int x = 0;
    int y = 0;
    if (ParseInt(a, &x) && ParseInt(b, &y) && x != y) return x < y;
    return a < b;
  });
  std::map<std::string, int> ids;
  for (const std::string& t : sorted) ids.emplace(t, static_cast<int>(ids.size()));
  return ids;
}

// An identity folder's images: (identity name, file) pairs of one split.
struct FolderEntry {
  std::string identity;
  fs::path file;
  std::string camera_token;
};

std::vector<FolderEntry> ReadIdentityFolders(const fs::path& dir, const std::regex* camera_re) {
  const std::string dataset = "folder";
  RequireDirectory(dir, dataset, "split");
  std::vector<fs::path> identities;
  BadEntries loose;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) {
      identities.push_back(e.path());
    } else if (e.is_regular_file() && HasImageExtension(e.path())) {
      loose.Add(e.path().filename().string());
    }
  }
  loose.ThrowIfAny("folder: images directly in " + dir.string() + " (they must sit in one subfolder per identity)");
  std::sort(identities.begin(), identities.end());
  std::vector<FolderEntry> entries;
  BadEntries no_camera;
  for (const fs::path& id_dir : identities) {
    for (const fs::path& file : ListFiles(id_dir, HasImageExtension)) {
      FolderEntry entry{id_dir.filename().string(), file, ""};
      if (camera_re != nullptr && !CameraToken(*camera_re, file.filename().string(), &entry.camera_token)) {
        no_camera.Add((id_dir.filename() / file.filename()).string());
        continue;
      }
      entries.push_back(std::move(entry));
    }
  }
  no_camera.ThrowIfAny("folder: image names in " + dir.string() + " without a camera for camera_regex");
  return entries;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::stringstream ss(line);
  while (std::getline(ss, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  for (std::string& f : fields) {
    const size_t b = f.find_first_not_of(" \t\r");
    const size_t e = f.find_last_not_of(" \t\r");
    f = b == std::string::npos ? std::string() : f.substr(b, e - b + 1);
  }
  return fields;
}

}  // namespace

std::string RenderFolderName(int angle) {
  if (std::find(kRenderAngles.begin(), kRenderAngles.end(), angle) == kRenderAngles.end()) {
    throw std::invalid_argument("render angle " + std::to_string(angle) + " is not one of 0, 45, ..., 315");
  }
  return angle == 0 ? std::string("render") : "render_" + std::to_string(angle);
}

const std::string& ImageRecord::StructurePath(int angle) const {
  const auto it = std::find(kRenderAngles.begin(), kRenderAngles.end(), angle);
  if (it == kRenderAngles.end()) {
    throw std::runtime_error("structure angle " + std::to_string(angle) + " is not one of 0, 45, ..., 315");
  }
  const size_t a = it - kRenderAngles.begin();
  if (structure_paths.size() != kRenderAngles.size() || structure_paths[a].empty()) {
    throw std::runtime_error("image " + path + " has no mesh render for angle " + std::to_string(angle) +
                             " (no mesh_dir, or the angle is not in DatasetOptions.render_angles)");
  }
  return structure_paths[a];
}

ReidDataset LoadMarket1501(const std::string& root, const DatasetOptions& options) {
  return LoadMarketStyle("market1501", root, "Market-1501-v15.09.15", options);
}

ReidDataset LoadDukeMtmcReid(const std::string& root, const DatasetOptions& options) {
  return LoadMarketStyle("dukemtmc-reid", root, "DukeMTMC-reID", options);
}

ReidDataset LoadMsmt17(const std::string& root, const DatasetOptions& options) {
  const std::string name = "msmt17";
  ValidateOptions(options, name);
  RequireDirectory(root, name, "dataset root");
  const fs::path r(root);
  std::error_code ec;
  struct Layout {
    fs::path base;
    std::string train_dir;
    std::string test_dir;
  };
  const auto v2_at = [&](const fs::path& p) { return Layout{p, "mask_train_v2", "mask_test_v2"}; };
  const auto v1_at = [&](const fs::path& p) { return Layout{p, "train", "test"}; };
  std::vector<Layout> candidates;
  if (options.msmt_version != MsmtVersion::kV1) {
    candidates.push_back(v2_at(r / "MSMT17_V2"));
    candidates.push_back(v2_at(r));
  }
  if (options.msmt_version != MsmtVersion::kV2) {
    candidates.push_back(v1_at(r / "MSMT17_V1"));
    candidates.push_back(v1_at(r));
  }
  const Layout* layout = nullptr;
  for (const Layout& c : candidates) {
    if (fs::is_directory(c.base / c.train_dir, ec) && fs::is_regular_file(c.base / "list_train.txt", ec)) {
      layout = &c;
      break;
    }
  }
  if (layout == nullptr) {
    throw std::runtime_error(name + ": no MSMT17 layout under " + root +
                             " (expected MSMT17_V2/{mask_train_v2/, list_train.txt} or MSMT17_V1/{train/, "
                             "list_train.txt}, or those directly in the root)");
  }
  const fs::path train_dir = layout->base / layout->train_dir;
  const fs::path test_dir = layout->base / layout->test_dir;
  RequireDirectory(test_dir, name, "test image");
  ReidDataset d;
  d.name = name;
  d.root = layout->base.string();
  // MSMT17's train split is list_train + list_val (the val images belong to the training identities).
  std::vector<RawItem> train = ReadMsmtList(layout->base / "list_train.txt", train_dir, options);
  std::vector<RawItem> val = ReadMsmtList(layout->base / "list_val.txt", train_dir, options);
  train.insert(train.end(), std::make_move_iterator(val.begin()), std::make_move_iterator(val.end()));
  std::vector<RawItem> query = ReadMsmtList(layout->base / "list_query.txt", test_dir, options);
  std::vector<RawItem> gallery = ReadMsmtList(layout->base / "list_gallery.txt", test_dir, options);
  d.train = BuildSplit(std::move(train), true, (layout->base / "list_train.txt").string() + " + list_val.txt",
                       "train", true, name, options, &d.corrupt);
  d.query = BuildSplit(std::move(query), false, (layout->base / "list_query.txt").string(), "test",
                       options.query_structures, name, options, &d.corrupt);
  d.gallery = BuildSplit(std::move(gallery), false, (layout->base / "list_gallery.txt").string(), "test",
                         options.gallery_structures, name, options, &d.corrupt);
  return d;
}

ReidDataset LoadFolderDataset(const std::string& root, const DatasetOptions& options) {
  const std::string name = "folder";
  ValidateOptions(options, name);
  RequireDirectory(root, name, "dataset root");
  std::regex camera_re;
  if (!options.camera_regex.empty()) {
    try {
      camera_re = std::regex(options.camera_regex, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::runtime_error(name + ": DatasetOptions.camera_regex '" + options.camera_regex +
                               "' is not a valid regex: " + e.what());
    }
    if (camera_re.mark_count() < 1) {
      throw std::runtime_error(name + ": DatasetOptions.camera_regex '" + options.camera_regex +
                               "' needs one capture group for the camera");
    }
  }
  const std::regex* re = options.camera_regex.empty() ? nullptr : &camera_re;
  const fs::path base(root);
  std::error_code ec;
  const bool has_query = fs::exists(base / "query", ec);
  const bool has_gallery = fs::exists(base / "gallery", ec);
  if (has_query != has_gallery) {
    throw std::runtime_error(name + ": missing split folder " + (base / (has_query ? "gallery" : "query")).string() +
                             " (query/ and gallery/ come together or not at all)");
  }
  std::vector<FolderEntry> train = ReadIdentityFolders(base / "train", re);
  std::vector<FolderEntry> query;
  std::vector<FolderEntry> gallery;
  if (has_query) {
    query = ReadIdentityFolders(base / "query", re);
    gallery = ReadIdentityFolders(base / "gallery", re);
  }
  std::set<std::string> cameras;
  std::set<std::string> train_ids;
  std::set<std::string> test_ids;
  for (const FolderEntry& e : train) {
    cameras.insert(e.camera_token);
    train_ids.insert(e.identity);
  }
  for (const auto* split : {&query, &gallery}) {
    for (const FolderEntry& e : *split) {
      cameras.insert(e.camera_token);
      test_ids.insert(e.identity);
    }
  }
  const std::map<std::string, int> camera_ids = NumberTokens(cameras);
  const std::map<std::string, int> train_pids = NumberTokens(train_ids);
  const std::map<std::string, int> test_pids = NumberTokens(test_ids);
  const auto to_items = [&](const std::vector<FolderEntry>& entries, const std::map<std::string, int>& pids) {
    std::vector<RawItem> items;
    for (const FolderEntry& e : entries) {
      items.push_back({e.file.string(), (fs::path(e.identity) / e.file.filename()).string(), pids.at(e.identity),
                       re == nullptr ? -1 : camera_ids.at(e.camera_token)});
    }
    return items;
  };
  ReidDataset d;
  d.name = name;
  d.root = root;
  d.train = BuildSplit(to_items(train, train_pids), true, (base / "train").string(), "train", true, name, options,
                       &d.corrupt);
  if (has_query) {
    d.query = BuildSplit(to_items(query, test_pids), false, (base / "query").string(), "test",
                         options.query_structures, name, options, &d.corrupt);
    d.gallery = BuildSplit(to_items(gallery, test_pids), false, (base / "gallery").string(), "test",
                           options.gallery_structures, name, options, &d.corrupt);
  }
  return d;
}

ReidDataset LoadCsvDataset(const std::string& csv_path, const DatasetOptions& options) {
  const std::string name = "csv";
  ValidateOptions(options, name);
  RequireFile(csv_path, name, "CSV file");
  std::ifstream in(csv_path);
  if (!in) throw std::runtime_error(name + ": cannot open CSV file " + csv_path);
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(name + ": CSV file " + csv_path + " is empty");
  const std::vector<std::string> header = SplitCsv(line);
  const auto column = [&](const std::string& col, bool required) -> int {
    const auto it = std::find(header.begin(), header.end(), col);
    if (it == header.end()) {
      if (required) {
        throw std::runtime_error(name + ": CSV file " + csv_path + " has no column '" + col +
                                 "' in its header (needs path, split, pid; optional camid)");
      }
      return -1;
    }
    return static_cast<int>(it - header.begin());
  };
  const int path_col = column("path", true);
  const int split_col = column("split", true);
  const int pid_col = column("pid", true);
  const int cam_col = column("camid", false);
  const fs::path folder = fs::path(csv_path).parent_path();
  std::vector<RawItem> splits[3];
  BadEntries bad;
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::vector<std::string> f = SplitCsv(line);
    const std::string where = "line " + std::to_string(line_number) + ": " + line;
    if (f.size() != header.size()) {
      bad.Add(where);
      continue;
    }
    RawItem item;
    int split = -1;
    if (f[split_col] == "train") split = 0;
    if (f[split_col] == "query") split = 1;
    if (f[split_col] == "gallery") split = 2;
    item.camid = -1;
    const bool cam_ok = cam_col < 0 || f[cam_col].empty() || (ParseInt(f[cam_col], &item.camid) && item.camid >= 0);
    const fs::path relative(f[path_col]);
    const bool path_ok = !f[path_col].empty() && (options.mesh_dir.empty() || relative.is_relative());
    if (split < 0 || !ParseInt(f[pid_col], &item.pid) || item.pid < 0 || !cam_ok || !path_ok) {
      bad.Add(where);
      continue;
    }
    item.relative = f[path_col];
    item.path = relative.is_absolute() ? relative.string() : (folder / relative).string();
    splits[split].push_back(std::move(item));
  }
  bad.ThrowIfAny(name + ": unparsable rows in " + csv_path +
                 " (split must be train|query|gallery, pid an integer >= 0, camid empty or an integer >= 0, "
                 "path non-empty and relative when mesh_dir is set)");
  ReidDataset d;
  d.name = name;
  d.root = folder.string();
  d.train = BuildSplit(std::move(splits[0]), true, csv_path + " (train rows)", "train", true, name, options,
                       &d.corrupt);
  d.query = BuildSplit(std::move(splits[1]), false, csv_path + " (query rows)", "test", options.query_structures,
                       name, options, &d.corrupt);
  d.gallery = BuildSplit(std::move(splits[2]), false, csv_path + " (gallery rows)", "test",
                         options.gallery_structures, name, options, &d.corrupt);
  return d;
}

ReidDataset LoadDataset(const std::string& name, const std::string& root, const DatasetOptions& options) {
  if (name == "market1501") return LoadMarket1501(root, options);
  if (name == "dukemtmc-reid") return LoadDukeMtmcReid(root, options);
  if (name == "msmt17") return LoadMsmt17(root, options);
  if (name == "folder") return LoadFolderDataset(root, options);
  if (name == "csv") return LoadCsvDataset(root, options);
  throw std::runtime_error("unknown dataset name '" + name +
                           "' (expected market1501, dukemtmc-reid, msmt17, folder or csv)");
}

}  // namespace gcl::data

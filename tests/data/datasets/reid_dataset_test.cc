// Every loader on small trees written here, including each kind of bad input (reference §3 and §9).
#include "data/datasets/reid_dataset.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/datasets/reid_names.h"
#include "tests/data/datasets/fixtures.h"

namespace gcl::data {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::FixtureImage;
using testing::MarketSpec;
using testing::TempDir;
using testing::WriteJpeg;
using testing::WriteText;

// Runs `load` and returns the std::runtime_error message, failing the test if nothing is thrown.
template <typename F>
std::string ErrorOf(F load) {
  try {
    load();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected std::runtime_error";
  return "";
}

TEST(Market1501, FieldConventions) {
  TempDir dir;
  const MarketSpec spec = testing::SmallMarketSpec(3, 4);  // pids 2, 5, 8
  testing::WriteMarketTree(dir.path() + "/market", dir.path() + "/mesh", spec);
  DatasetOptions options;
  options.mesh_dir = dir.path() + "/mesh";
  const ReidDataset d = LoadMarket1501(dir.path() + "/market", options);
  EXPECT_EQ(d.name, "market1501");
  ASSERT_EQ(d.train.records.size(), 12u);
  EXPECT_EQ(d.train.num_pids, 3);
  EXPECT_EQ(d.query.records.size(), 2u);
  // The -1 junk box is dropped, the 0000 distractor kept.
  EXPECT_EQ(d.junk_dropped, 1);
  ASSERT_EQ(d.gallery.records.size(), 3u);
  std::set<int> gallery_pids;
  for (const ImageRecord& r : d.gallery.records) {
    gallery_pids.insert(r.pid);
    EXPECT_EQ(r.label, kNoLabel);
    EXPECT_FALSE(r.has_structures());
  }
  EXPECT_EQ(gallery_pids, (std::set<int>{0, 5, 11}));
  const std::map<int, int> expected_label = {{2, 0}, {5, 1}, {8, 2}};
  for (size_t i = 0; i < d.train.records.size(); ++i) {
    const ImageRecord& r = d.train.records[i];
    EXPECT_EQ(r.index, static_cast<int>(i));
    EXPECT_EQ(r.label, expected_label.at(r.pid));
    MarketName n;
    ASSERT_TRUE(ParseMarketName(r.path, &n));
    EXPECT_EQ(r.camid, n.camera - 1);  // 0-based
    if (i > 0) {
      EXPECT_LT(d.train.records[i - 1].path, r.path);  // sorted
    }
    ASSERT_TRUE(r.has_structures());
    const std::string name = fs::path(r.path).filename().string();
    EXPECT_EQ(r.StructurePath(0), options.mesh_dir + "/train/render/" + name);
    EXPECT_EQ(r.StructurePath(315), options.mesh_dir + "/train/render_315/" + name);
    EXPECT_TRUE(fs::exists(r.StructurePath(135)));
  }
  EXPECT_EQ(d.train.num_cameras, 6);
  EXPECT_THROW(d.train.records[0].StructurePath(30), std::runtime_error);
}

TEST(Market1501, FindsReleaseSubfolderAndWorksWithoutMesh) {
  TempDir dir;
  MarketSpec spec = testing::SmallMarketSpec(2, 2);
  spec.subfolder = "Market-1501-v15.09.15";
  spec.write_renders = false;
  testing::WriteMarketTree(dir.path(), "", spec);
  const ReidDataset d = LoadMarket1501(dir.path());
  EXPECT_EQ(d.train.records.size(), 4u);
  EXPECT_FALSE(d.train.records[0].has_structures());
  EXPECT_THROW(d.train.records[0].StructurePath(0), std::runtime_error);
}

TEST(Market1501, TestStructuresFromTestFolder) {
  TempDir dir;
  testing::WriteMarketTree(dir.path() + "/m", dir.path() + "/mesh", testing::SmallMarketSpec(2, 2));
  DatasetOptions options;
  options.mesh_dir = dir.path() + "/mesh";
  options.gallery_structures = true;
  const ReidDataset d = LoadMarket1501(dir.path() + "/m", options);
  ASSERT_TRUE(d.gallery.records[0].has_structures());
  EXPECT_THAT(d.gallery.records[0].StructurePath(90), HasSubstr("/mesh/test/render_90/"));
  EXPECT_FALSE(d.query.records[0].has_structures());
  options.query_structures = true;
  const ReidDataset q = LoadMarket1501(dir.path() + "/m", options);
  EXPECT_THAT(q.query.records[0].StructurePath(0), HasSubstr("/mesh/test/render/"));
  fs::remove_all(dir.path() + "/mesh/test/render_180");
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path() + "/m", options); }),
              HasSubstr("missing mesh renders under " + dir.path() + "/mesh/test"));
}

TEST(Market1501, MissingSplitNamesTheFolder) {
  TempDir dir;
  testing::WriteMarketTree(dir.path(), "", testing::SmallMarketSpec(2, 2));
  fs::remove_all(dir.path() + "/query");
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path()); }),
              HasSubstr("missing split folder " + dir.path() + "/query"));
}

TEST(Market1501, UnparsableNamesGiveCountAndExamples) {
  TempDir dir;
  testing::WriteMarketTree(dir.path(), "", testing::SmallMarketSpec(2, 2));
  WriteJpeg(dir.path() + "/bounding_box_train/person_a.jpg", 8, 4, 50);
  WriteJpeg(dir.path() + "/bounding_box_train/1-2_c1s1_000001_00.jpg", 8, 4, 50);
  WriteText(dir.path() + "/bounding_box_train/Thumbs.db", "not a jpg, ignored");
  const std::string error = ErrorOf([&] { LoadMarket1501(dir.path()); });
  EXPECT_THAT(error, HasSubstr("unparsable image names in " + dir.path() + "/bounding_box_train"));
  EXPECT_THAT(error, HasSubstr("2 bad"));
  EXPECT_THAT(error, HasSubstr("'person_a.jpg'"));
  EXPECT_THAT(error, HasSubstr("'1-2_c1s1_000001_00.jpg'"));
}

TEST(Market1501, MissingRendersGiveCountAndExamples) {
  TempDir dir;
  testing::WriteMarketTree(dir.path() + "/m", dir.path() + "/mesh", testing::SmallMarketSpec(2, 3));
  const std::string victim = FormatMarketName(2, 1, 1, 1, 0);
  fs::remove(dir.path() + "/mesh/train/render_45/" + victim);
  fs::remove(dir.path() + "/mesh/train/render/" + victim);
  DatasetOptions options;
  options.mesh_dir = dir.path() + "/mesh";
  const std::string error = ErrorOf([&] { LoadMarket1501(dir.path() + "/m", options); });
  EXPECT_THAT(error, HasSubstr("missing mesh renders under " + dir.path() + "/mesh/train"));
  EXPECT_THAT(error, HasSubstr("2 of 48 expected files missing"));
  EXPECT_THAT(error, HasSubstr("render_45/" + victim));
  // A missing render folder altogether names the folder.
  fs::remove_all(dir.path() + "/mesh/train");
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path() + "/m", options); }),
              HasSubstr("missing mesh-render folder " + dir.path() + "/mesh/train"));
}

TEST(Market1501, RenderAnglesSubsetOnlyRequiresThose) {
  TempDir dir;
  testing::WriteMarketTree(dir.path() + "/m", dir.path() + "/mesh", testing::SmallMarketSpec(2, 2));
  fs::remove_all(dir.path() + "/mesh/train/render_315");
  DatasetOptions options;
  options.mesh_dir = dir.path() + "/mesh";
  options.render_angles = {0, 45, 90, 135, 180, 225, 270};  // the reference's drawable set plus s_ori
  const ReidDataset d = LoadMarket1501(dir.path() + "/m", options);
  EXPECT_NO_THROW(d.train.records[0].StructurePath(270));
  EXPECT_THROW(d.train.records[0].StructurePath(315), std::runtime_error);
  options.render_angles = {0, 10};
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path() + "/m", options); }),
              HasSubstr("render_angles holds 10"));
}

TEST(Market1501, CorruptImagesSkippedThenFatal) {
  TempDir dir;
  testing::WriteMarketTree(dir.path(), "", testing::SmallMarketSpec(5, 4));  // 20 train images
  const std::string bad = dir.path() + "/bounding_box_train/" + FormatMarketName(2, 1, 1, 1, 0);
  testing::WriteGarbage(bad);
  for (ImageCheck check : {ImageCheck::kHeader, ImageCheck::kDecode}) {
    DatasetOptions options;
    options.image_check = check;
    options.max_corrupt_fraction = 0.1;
    const ReidDataset d = LoadMarket1501(dir.path(), options);
    EXPECT_EQ(d.train.records.size(), 19u);
    EXPECT_EQ(d.corrupt.count, 1);
    ASSERT_EQ(d.corrupt.first_paths.size(), 1u);
    EXPECT_EQ(d.corrupt.first_paths[0], bad);
    for (const ImageRecord& r : d.train.records) EXPECT_NE(r.path, bad);
    options.max_corrupt_fraction = 0.01;
    const std::string error = ErrorOf([&] { LoadMarket1501(dir.path(), options); });
    EXPECT_THAT(error, HasSubstr("1 of 20 images in " + dir.path() + "/bounding_box_train"));
    EXPECT_THAT(error, HasSubstr(bad));
  }
  // A JPEG signature followed by garbage: the header check walks the JPEG's segments and finds the first one
  // running past the end of the file, without decoding.
  testing::WriteText(bad, std::string("\xFF\xD8\xFF\xE0", 4) + std::string(200, 'x'));
  for (ImageCheck check : {ImageCheck::kHeader, ImageCheck::kDecode}) {
    DatasetOptions options;
    options.image_check = check;
    options.max_corrupt_fraction = 0.1;
    options.threads = 2;
    const ReidDataset d = LoadMarket1501(dir.path(), options);
    EXPECT_EQ(d.corrupt.count, 1);
    ASSERT_EQ(d.corrupt.first_problems.size(), 1u);
    EXPECT_THAT(d.corrupt.first_problems[0], HasSubstr("runs past the end of the file (truncated)"));
  }
}

// Issue 18: a truncated JPEG passed both checks (signature, and a decode that fills the rest with grey) and was
// trained on; a 20000 x 20000 JPEG was decoded on every epoch. Both are unusable now, under either check.
TEST(Market1501, TruncatedAndOversizedImagesAreUnusable) {
  TempDir dir;
  testing::WriteMarketTree(dir.path(), "", testing::SmallMarketSpec(5, 4));  // 20 train images, 16 x 8
  const std::string cut = dir.path() + "/bounding_box_train/" + FormatMarketName(2, 1, 1, 1, 0);
  const std::string huge = dir.path() + "/bounding_box_train/" + FormatMarketName(5, 2, 1, 5, 0);
  std::ifstream in(cut, std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  WriteText(cut, whole.substr(0, whole.size() * 2 / 3));
  std::ifstream big_in(huge, std::ios::binary);
  std::string big((std::istreambuf_iterator<char>(big_in)), std::istreambuf_iterator<char>());
  const size_t sof = big.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (const size_t at : {sof + 5, sof + 7}) {
    big[at] = static_cast<char>(20000 >> 8);
    big[at + 1] = static_cast<char>(20000 & 0xFF);
  }
  WriteText(huge, big);
  for (ImageCheck check : {ImageCheck::kHeader, ImageCheck::kDecode}) {
    DatasetOptions options;
    options.image_check = check;
    options.max_corrupt_fraction = 0.2;
    const ReidDataset d = LoadMarket1501(dir.path(), options);
    EXPECT_EQ(d.train.records.size(), 18u);
    EXPECT_EQ(d.corrupt.count, 2);
    for (const ImageRecord& r : d.train.records) {
      EXPECT_NE(r.path, cut);
      EXPECT_NE(r.path, huge);
    }
    options.max_corrupt_fraction = 0.0;
    const std::string error = ErrorOf([&] { LoadMarket1501(dir.path(), options); });
    EXPECT_THAT(error, HasSubstr(cut + " (JPEG ends before its end-of-image marker (truncated))"));
    EXPECT_THAT(error, HasSubstr(huge + " (JPEG of 20000 x 20000 = 400000000 pixels, above the limit of 16777216"));
  }
}

TEST(Market1501, ThePixelLimitIsAnOption) {
  TempDir dir;
  testing::WriteMarketTree(dir.path(), "", testing::SmallMarketSpec(5, 4));  // 16 x 8 = 128 pixels each
  DatasetOptions options;
  options.max_image_pixels = 128;
  EXPECT_EQ(LoadMarket1501(dir.path(), options).corrupt.count, 0);
  options.max_image_pixels = 127;
  options.max_corrupt_fraction = 1.0;
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path(), options); }), HasSubstr("the train set is empty"));
  options.max_corrupt_fraction = 0.0;
  const std::string error = ErrorOf([&] { LoadMarket1501(dir.path(), options); });
  EXPECT_THAT(error, HasSubstr("20 of 20 images"));
  EXPECT_THAT(error, HasSubstr("JPEG of 8 x 16 = 128 pixels, above the limit of 127 (max_image_pixels)"));
  options.max_image_pixels = 0;
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path(), options); }), HasSubstr("max_image_pixels must be >= 1"));
}

TEST(Market1501, EmptyTrainSet) {
  TempDir dir;
  MarketSpec spec = testing::SmallMarketSpec(0, 0);
  testing::WriteMarketTree(dir.path(), "", spec);
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path()); }), HasSubstr("the train set is empty"));
  // Only junk in train is empty too.
  WriteJpeg(dir.path() + "/bounding_box_train/" + FormatMarketName(-1, 1, 1, 1, 0), 8, 4, 9);
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path()); }), HasSubstr("the train set is empty"));
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501(dir.path() + "/nowhere"); }), HasSubstr("nowhere"));
}

TEST(DukeMtmcReid, SubfolderAndEightCameras) {
  TempDir dir;
  MarketSpec spec;
  spec.subfolder = "DukeMTMC-reID";
  for (int c = 1; c <= 8; ++c) spec.train.push_back({5, c, c});
  spec.train.push_back({7, 8, 20});
  spec.query = {{9, 2, 30}};
  spec.gallery = {{9, 8, 31}};
  testing::WriteMarketTree(dir.path(), dir.path() + "/mesh/DukeMTMC", spec);
  DatasetOptions options;
  options.mesh_dir = dir.path() + "/mesh/DukeMTMC";
  const ReidDataset d = LoadDukeMtmcReid(dir.path(), options);
  EXPECT_EQ(d.name, "dukemtmc-reid");
  EXPECT_EQ(d.train.records.size(), 9u);
  EXPECT_EQ(d.train.num_cameras, 8);
  EXPECT_EQ(d.train.num_pids, 2);
  EXPECT_EQ(d.gallery.records[0].camid, 7);
  EXPECT_EQ(d.train.records.back().label, 1);
}

// MSMT17 tree: images under <pid>/ folders, list files "<pid>/<name> <label>".
struct MsmtFixture {
  std::string base;  // MSMT17_V2 or MSMT17_V1 folder
  std::string mesh;
};

MsmtFixture WriteMsmt(const std::string& root, bool v2) {
  const std::string base = root + (v2 ? "/MSMT17_V2" : "/MSMT17_V1");
  const std::string train_dir = base + (v2 ? "/mask_train_v2" : "/train");
  const std::string test_dir = base + (v2 ? "/mask_test_v2" : "/test");
  const std::string mesh = root + "/mesh/msmt17";
  std::map<std::string, std::string> lists;
  const auto add = [&](const std::string& list, const std::string& dir, int pid, int camera, int frame,
                       bool train) {
    const std::string rel = FormatMarketName(pid, 0, 0, 0, 0).substr(0, 4) + "/" +
                            FormatMsmtName(pid, frame, camera, "0303morning", frame, 0);
    WriteJpeg(dir + "/" + rel, 16, 8, 40 + frame);
    lists[list] += rel + " " + std::to_string(pid) + "\n";
    if (train) {
      for (int angle : kRenderAngles) {
        WriteJpeg(mesh + "/train/" + RenderFolderName(angle) + "/" + rel, 16, 8, testing::RenderValue(angle));
      }
    }
  };
  add("list_train.txt", train_dir, 0, 1, 1, true);
  add("list_train.txt", train_dir, 0, 15, 2, true);
  add("list_train.txt", train_dir, 1, 3, 3, true);
  add("list_val.txt", train_dir, 1, 4, 4, true);
  add("list_val.txt", train_dir, 2, 2, 5, true);
  add("list_query.txt", test_dir, 0, 7, 6, false);
  add("list_gallery.txt", test_dir, 0, 9, 7, false);
  add("list_gallery.txt", test_dir, 1, 10, 8, false);
  for (const auto& [name, text] : lists) WriteText(base + "/" + name, text);
  return {base, mesh};
}

TEST(Msmt17, V2TrainIsTrainPlusValWithPidFolders) {
  TempDir dir;
  const MsmtFixture f = WriteMsmt(dir.path(), /*v2=*/true);
  DatasetOptions options;
  options.mesh_dir = f.mesh;
  const ReidDataset d = LoadMsmt17(dir.path(), options);
  EXPECT_EQ(d.name, "msmt17");
  EXPECT_EQ(d.root, f.base);
  ASSERT_EQ(d.train.records.size(), 5u);
  EXPECT_EQ(d.train.num_pids, 3);
  EXPECT_EQ(d.query.records.size(), 1u);
  EXPECT_EQ(d.gallery.records.size(), 2u);
  std::set<int> cams;
  for (const ImageRecord& r : d.train.records) {
    cams.insert(r.camid);
    EXPECT_EQ(r.label, r.pid);  // labels 0..2 are already contiguous
    EXPECT_THAT(r.path, HasSubstr(f.base + "/mask_train_v2/"));
    const std::string rel = r.path.substr((f.base + "/mask_train_v2/").size());
    EXPECT_EQ(r.StructurePath(90), f.mesh + "/train/render_90/" + rel);  // the pid subfolder is kept
  }
  EXPECT_EQ(cams, (std::set<int>{0, 14, 2, 3, 1}));  // 0-based
  EXPECT_EQ(d.query.records[0].camid, 6);
  EXPECT_THAT(d.query.records[0].path, HasSubstr("/mask_test_v2/0000/"));

  options.msmt_one_based_cameras = true;  // the reference's behaviour
  EXPECT_EQ(LoadMsmt17(dir.path(), options).query.records[0].camid, 7);
}

TEST(Msmt17, V1LayoutAndVersionChoice) {
  TempDir dir;
  const MsmtFixture f = WriteMsmt(dir.path(), /*v2=*/false);
  DatasetOptions options;
  const ReidDataset d = LoadMsmt17(dir.path(), options);
  EXPECT_EQ(d.root, f.base);
  EXPECT_THAT(d.train.records[0].path, HasSubstr("/MSMT17_V1/train/0000/"));
  EXPECT_EQ(LoadMsmt17(f.base, options).train.records.size(), 5u);  // root may be the version folder itself
  options.msmt_version = MsmtVersion::kV2;
  EXPECT_THAT(ErrorOf([&] { LoadMsmt17(dir.path(), options); }), HasSubstr("no MSMT17 layout under"));
}

TEST(Msmt17, BadListsNameTheFile) {
  TempDir dir;
  const MsmtFixture f = WriteMsmt(dir.path(), /*v2=*/true);
  fs::remove(f.base + "/list_val.txt");
  EXPECT_THAT(ErrorOf([&] { LoadMsmt17(dir.path()); }), HasSubstr("missing list file " + f.base + "/list_val.txt"));
  WriteText(f.base + "/list_val.txt", "0001/0001_004_04_0303morning_0004_0.jpg 1\n\ngarbage line\nx.jpg 3\n");
  const std::string error = ErrorOf([&] { LoadMsmt17(dir.path()); });
  EXPECT_THAT(error, HasSubstr("unparsable lines in " + f.base + "/list_val.txt"));
  EXPECT_THAT(error, HasSubstr("2 bad"));
  EXPECT_THAT(error, HasSubstr("line 3: garbage line"));
  EXPECT_THAT(error, HasSubstr("line 4: x.jpg 3"));
}

TEST(Msmt17, ListedImageMissingIsCountedAsUnreadable) {
  TempDir dir;
  const MsmtFixture f = WriteMsmt(dir.path(), /*v2=*/true);
  WriteText(f.base + "/list_query.txt", "0000/0000_006_07_0303morning_0006_0.jpg 0\n0000/0000_099_07_x_1_0.jpg 0\n");
  DatasetOptions options;
  options.max_corrupt_fraction = 0.6;
  EXPECT_EQ(LoadMsmt17(dir.path(), options).query.records.size(), 1u);
  options.max_corrupt_fraction = 0.4;
  EXPECT_THAT(ErrorOf([&] { LoadMsmt17(dir.path(), options); }), HasSubstr("0000_099_07_x_1_0.jpg"));
}

TEST(FolderDataset, IdentitiesAndCameraRegex) {
  TempDir dir;
  const std::string r = dir.path() + "/people";
  WriteJpeg(r + "/train/bob/bob_c2_1.jpg", 12, 6, 80);
  WriteJpeg(r + "/train/bob/bob_c10_2.jpg", 12, 6, 90);
  WriteJpeg(r + "/train/alice/a_c1_1.png", 12, 6, 100);
  WriteJpeg(r + "/query/7/q_c1.jpg", 12, 6, 110);
  WriteJpeg(r + "/gallery/7/g_c2.jpg", 12, 6, 120);
  WriteJpeg(r + "/gallery/10/g_c10.jpg", 12, 6, 130);
  WriteJpeg(dir.path() + "/mesh/train/render/bob/bob_c2_1.jpg", 12, 6, 1);
  DatasetOptions options;
  options.camera_regex = "_c(\\d+)";
  const ReidDataset d = LoadFolderDataset(r, options);
  ASSERT_EQ(d.train.records.size(), 3u);
  EXPECT_EQ(d.train.num_pids, 2);
  EXPECT_EQ(d.train.records[0].path, r + "/train/alice/a_c1_1.png");
  EXPECT_EQ(d.train.records[0].label, 0);
  EXPECT_EQ(d.train.records[0].camid, 0);   // c1
  EXPECT_EQ(d.train.records[1].camid, 2);   // c10: numeric order 1, 2, 10
  EXPECT_EQ(d.train.records[2].camid, 1);   // c2
  EXPECT_EQ(d.query.records[0].pid, d.gallery.records[1].pid);  // "7" is one pid across query and gallery
  EXPECT_EQ(d.gallery.records[0].pid, 1);  // records sort "10/" before "7/"; pids number 7 -> 0, 10 -> 1
  // Without a regex cameras are unknown.
  EXPECT_EQ(LoadFolderDataset(r).train.records[0].camid, -1);
  // Renders are looked up at <mesh>/train/render*/<identity>/<file>.
  options.mesh_dir = dir.path() + "/mesh";
  options.render_angles = {0};
  const std::string error = ErrorOf([&] { LoadFolderDataset(r, options); });
  EXPECT_THAT(error, HasSubstr("2 of 3 expected files missing"));
  EXPECT_THAT(error, HasSubstr("render/alice/a_c1_1.png"));
}

TEST(FolderDataset, BadInput) {
  TempDir dir;
  const std::string r = dir.path();
  WriteJpeg(r + "/train/x/a_c1.jpg", 8, 4, 10);
  WriteJpeg(r + "/train/y/nocam.jpg", 8, 4, 10);
  DatasetOptions options;
  options.camera_regex = "_c(\\d+)";
  EXPECT_THAT(ErrorOf([&] { LoadFolderDataset(r, options); }), HasSubstr("'y/nocam.jpg'"));
  options.camera_regex = "_c\\d+";
  EXPECT_THAT(ErrorOf([&] { LoadFolderDataset(r, options); }), HasSubstr("needs one capture group"));
  options.camera_regex = "(";
  EXPECT_THAT(ErrorOf([&] { LoadFolderDataset(r, options); }), HasSubstr("not a valid regex"));
  WriteJpeg(r + "/train/loose.jpg", 8, 4, 10);
  EXPECT_THAT(ErrorOf([&] { LoadFolderDataset(r); }), HasSubstr("images directly in " + r + "/train"));
  fs::remove(r + "/train/loose.jpg");
  fs::create_directories(r + "/query");
  EXPECT_THAT(ErrorOf([&] { LoadFolderDataset(r); }), HasSubstr("missing split folder " + r + "/gallery"));
  TempDir empty;
  fs::create_directories(empty.path() + "/train/nobody");
  EXPECT_THAT(ErrorOf([&] { LoadFolderDataset(empty.path()); }), HasSubstr("the train set is empty"));
}

TEST(CsvDataset, ColumnsSplitsAndCameras) {
  TempDir dir;
  WriteJpeg(dir.path() + "/img/a.jpg", 8, 4, 10);
  WriteJpeg(dir.path() + "/img/b.jpg", 8, 4, 20);
  WriteJpeg(dir.path() + "/img/c.jpg", 8, 4, 30);
  WriteJpeg(dir.path() + "/img/d.jpg", 8, 4, 40);
  WriteText(dir.path() + "/data.csv",
            "split,path,pid,camid\ntrain,img/b.jpg,40,1\ntrain,img/a.jpg,12,\nquery,img/c.jpg,3,0\n"
            "gallery,img/d.jpg,3,2\n");
  const ReidDataset d = LoadCsvDataset(dir.path() + "/data.csv");
  ASSERT_EQ(d.train.records.size(), 2u);
  EXPECT_EQ(d.train.records[0].path, dir.path() + "/img/a.jpg");
  EXPECT_EQ(d.train.records[0].pid, 12);
  EXPECT_EQ(d.train.records[0].label, 0);
  EXPECT_EQ(d.train.records[0].camid, -1);
  EXPECT_EQ(d.train.records[1].label, 1);
  EXPECT_EQ(d.train.records[1].camid, 1);
  EXPECT_EQ(d.gallery.records[0].camid, 2);
  EXPECT_EQ(LoadDataset("csv", dir.path() + "/data.csv").query.records.size(), 1u);
}

TEST(CsvDataset, BadInput) {
  TempDir dir;
  WriteJpeg(dir.path() + "/a.jpg", 8, 4, 10);
  WriteText(dir.path() + "/nopid.csv", "split,path\ntrain,a.jpg\n");
  EXPECT_THAT(ErrorOf([&] { LoadCsvDataset(dir.path() + "/nopid.csv"); }), HasSubstr("has no column 'pid'"));
  WriteText(dir.path() + "/bad.csv", "path,split,pid\na.jpg,train,1\na.jpg,test,1\na.jpg,train,x\na.jpg,train\n");
  const std::string error = ErrorOf([&] { LoadCsvDataset(dir.path() + "/bad.csv"); });
  EXPECT_THAT(error, HasSubstr("unparsable rows in " + dir.path() + "/bad.csv"));
  EXPECT_THAT(error, HasSubstr("3 bad"));
  EXPECT_THAT(error, HasSubstr("line 3: a.jpg,test,1"));
  EXPECT_THAT(ErrorOf([&] { LoadCsvDataset(dir.path() + "/none.csv"); }), HasSubstr("missing CSV file"));
  WriteText(dir.path() + "/query_only.csv", "path,split,pid\na.jpg,query,1\n");
  EXPECT_THAT(ErrorOf([&] { LoadCsvDataset(dir.path() + "/query_only.csv"); }), HasSubstr("train set is empty"));
}

TEST(LoadDataset, UnknownNameAndBadOptions) {
  EXPECT_THAT(ErrorOf([] { LoadDataset("cuhk03", "/x"); }), HasSubstr("unknown dataset name 'cuhk03'"));
  DatasetOptions options;
  options.threads = 0;
  EXPECT_THAT(ErrorOf([&] { LoadMarket1501("/x", options); }), HasSubstr("DatasetOptions.threads"));
  EXPECT_THROW(RenderFolderName(20), std::invalid_argument);
  EXPECT_EQ(RenderFolderName(0), "render");
  EXPECT_EQ(RenderFolderName(225), "render_225");
}

}  // namespace
}  // namespace gcl::data

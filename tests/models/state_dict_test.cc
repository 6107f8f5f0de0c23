// The .pth reader (own unpickler over PyTorch's zip container), the safetensors reader/writer and
// LoadStateDict's errors, against fixtures written by Python's torch.save (tests/testdata/models).
#include "models/state_dict.h"

#include <caffe2/serialize/inline_container.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <limits>
#include <random>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/support/hostile_input.h"

namespace gcl::models {
namespace {

using ::testing::HasSubstr;
using testing_support::Outcome;
using testing_support::RunBounded;

const char kData[] = "tests/testdata/models/";

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/" + name;
}

torch::Tensor Find(const StateDict& sd, const std::string& name) {
  for (const auto& [k, v] : sd) {
    if (k == name) return v;
  }
  ADD_FAILURE() << "no tensor " << name;
  return torch::Tensor();
}

void ExpectError(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

void ExpectPickleCases(const StateDict& sd) {
  const torch::Tensor base = torch::arange(24, torch::kFloat32).view({4, 6});
  EXPECT_TRUE(torch::equal(Find(sd, "base"), base));
  const torch::Tensor view = Find(sd, "view");
  EXPECT_TRUE(torch::equal(view, base.slice(0, 1).slice(1, 0, 6, 2)));
  EXPECT_TRUE(view.is_contiguous());
  const torch::Tensor half = Find(sd, "half");
  EXPECT_EQ(half.scalar_type(), torch::kFloat16);
  EXPECT_TRUE(torch::equal(half.to(torch::kFloat32), torch::tensor({0.5f, -2.0f, 1024.0f})));
  const torch::Tensor dbl = Find(sd, "double");
  EXPECT_EQ(dbl.scalar_type(), torch::kFloat64);
  EXPECT_EQ(dbl.item<double>(), 1.0 / 3.0);
  const torch::Tensor lng = Find(sd, "long");
  EXPECT_EQ(lng.scalar_type(), torch::kInt64);
  EXPECT_EQ(lng[0].item<int64_t>(), -(int64_t{1} << 40));
  EXPECT_EQ(lng[2].item<int64_t>(), int64_t{1} << 62);
  EXPECT_TRUE(torch::equal(Find(sd, "flags"), torch::tensor({true, false, true})));
  const torch::Tensor scalar = Find(sd, "scalar");
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<float>(), 2.5f);
  EXPECT_EQ(Find(sd, "empty").sizes(), torch::IntArrayRef({0, 3}));
}

TEST(TorchZip, ReadsDtypesViewsAndNestedValuesProtocol2) {
  // The tensors plus ints (one wider than 32 bits), a float, a list, a nested dict with a tuple, an
  // argparse.Namespace: every non-tensor value must parse and be listed as skipped.
  const Checkpoint c = ReadCheckpoint(std::string(kData) + "pickle_cases.pth");
  ASSERT_EQ(c.tensors.size(), 8u);
  ExpectPickleCases(c.tensors);
  EXPECT_EQ(c.skipped_entries, (std::vector<std::string>{"count", "neg", "ratio", "names", "nested", "args"}));
}

TEST(LegacyFormat, ReadsTheSameValuesAsTheZipFormat) {
  const Checkpoint legacy = ReadCheckpoint(std::string(kData) + "pickle_cases_legacy.pth");
  ASSERT_EQ(legacy.tensors.size(), 8u);
  ExpectPickleCases(legacy.tensors);
  EXPECT_EQ(legacy.skipped_entries, (std::vector<std::string>{"count", "neg", "ratio", "names", "nested", "args"}));
  const Checkpoint jvtc = ReadCheckpoint(std::string(kData) + "jvtc_r50_w32_legacy.pth");
  const Checkpoint zip = ReadCheckpoint(std::string(kData) + "jvtc_r50_w32.pth");
  ASSERT_EQ(jvtc.tensors.size(), zip.tensors.size());
  for (size_t i = 0; i < zip.tensors.size(); ++i) {
    EXPECT_EQ(jvtc.tensors[i].first, zip.tensors[i].first);
    EXPECT_TRUE(torch::equal(jvtc.tensors[i].second, zip.tensors[i].second)) << zip.tensors[i].first;
  }
}

TEST(LegacyFormat, TruncatedOrFlippedFilesGiveNamedErrors) {
  std::ifstream in(std::string(kData) + "pickle_cases_legacy.pth", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string dst = TempPath("legacy_damaged.pth");
  std::ofstream(dst, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 3);
  ExpectError([&] { ReadCheckpoint(dst); }, {dst, "storage"});
  std::mt19937 rng(3);
  int rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string damaged = bytes;
    for (int k = 0; k < 1 + trial % 3; ++k) damaged[2 + rng() % (damaged.size() - 2)] = static_cast<char>(rng() % 256);
    std::ofstream(dst, std::ios::binary | std::ios::trunc) << damaged;
    try {
      ReadCheckpoint(dst);
    } catch (const std::runtime_error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(TorchZip, ReadsProtocol4) {
  const Checkpoint c = ReadCheckpoint(std::string(kData) + "pickle_cases_protocol4.pth");
  ASSERT_EQ(c.tensors.size(), 8u);
  EXPECT_EQ(c.tensors[0].first, "base");
  ExpectPickleCases(c.tensors);
}

TEST(TorchZip, ReadsNestedStateDictWithMetadataAndObjects) {
  const Checkpoint c = ReadCheckpoint(std::string(kData) + "jvtc_r50_w32.pth");
  EXPECT_EQ(c.skipped_entries, (std::vector<std::string>{"epoch", "best_mAP", "args"}));
  EXPECT_EQ(c.tensors.front().first, "module.conv1.weight");
  EXPECT_EQ(c.tensors.back().first, "module.classifier.bias");
  EXPECT_EQ(Find(c.tensors, "module.conv1.weight").sizes(), torch::IntArrayRef({2, 3, 7, 7}));
}

TEST(Safetensors, ReadsFileWrittenByPythonAndMatchesPth) {
  const Checkpoint st = ReadCheckpoint(std::string(kData) + "imagenet_r18_w16.safetensors");
  const Checkpoint pth = ReadCheckpoint(std::string(kData) + "imagenet_r18_w16.pth");
  EXPECT_EQ(st.metadata.at("source"), "make_fixtures.py");
  ASSERT_EQ(st.tensors.size(), pth.tensors.size());
  for (size_t i = 0; i < st.tensors.size(); ++i) {
    EXPECT_EQ(st.tensors[i].first, pth.tensors[i].first);
    EXPECT_TRUE(torch::equal(st.tensors[i].second, pth.tensors[i].second)) << st.tensors[i].first;
  }
}

TEST(Safetensors, WriteReadRoundTrip) {
  StateDict sd = {{"a.weight", torch::randn({3, 4})},
                  {"b", torch::arange(5, torch::kInt64)},
                  {"c \"quoted\"", torch::randn({2}, torch::kFloat64).t()},
                  {"d", torch::randn({4, 6}).slice(1, 0, 6, 3)},  // non-contiguous
                  {"e", torch::ones({2}, torch::kBFloat16)},
                  {"f", torch::zeros({0})}};
  const std::string path = TempPath("roundtrip.safetensors");
  WriteSafetensors(path, sd, {{"k", "v\\\"x"}});
  const Checkpoint back = ReadCheckpoint(path);
  EXPECT_EQ(back.metadata.at("k"), "v\\\"x");
  ASSERT_EQ(back.tensors.size(), sd.size());
  for (size_t i = 0; i < sd.size(); ++i) {
    EXPECT_EQ(back.tensors[i].first, sd[i].first);
    EXPECT_EQ(back.tensors[i].second.scalar_type(), sd[i].second.scalar_type());
    EXPECT_TRUE(torch::equal(back.tensors[i].second, sd[i].second)) << sd[i].first;
  }
  std::ifstream in(path, std::ios::binary);
  uint64_t header = 0;
  in.read(reinterpret_cast<char*>(&header), 8);
  EXPECT_EQ(header % 8, 0u);
}

TEST(Errors, BadFilesNameTheFile) {
  const std::string junk = TempPath("junk.bin");
  std::ofstream(junk) << "not a checkpoint at all";
  ExpectError([&] { ReadCheckpoint(junk); }, {junk, "neither"});
  ExpectError([&] { ReadCheckpoint(TempPath("absent.pth")); }, {"absent.pth", "cannot open"});
  const std::string legacy = TempPath("legacy.pth");
  std::ofstream(legacy) << "\x80\x02" << "rest";
  ExpectError([&] { ReadCheckpoint(legacy); }, {legacy, "legacy magic number"});

  // A truncated safetensors file: header promises more data than the file holds.
  const std::string good = TempPath("good.safetensors");
  WriteSafetensors(good, {{"w", torch::randn({64})}});
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = TempPath("cut.safetensors");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 16);
  ExpectError([&] { ReadCheckpoint(cut); }, {cut, "'w'", "data_offsets"});
}

// Copies a torch.save archive record by record, letting `edit` change data.pkl and drop or change storages.
void RewriteArchive(const std::string& src, const std::string& dst,
                    const std::function<void(const std::string& name, std::string* bytes, bool* keep)>& edit) {
  caffe2::serialize::PyTorchStreamReader reader(src);
  caffe2::serialize::PyTorchStreamWriter writer(dst);
  for (const std::string& name : reader.getAllRecords()) {
    if (name == "version") continue;  // the writer adds its own
    at::DataPtr ptr;
    size_t n = 0;
    std::tie(ptr, n) = reader.getRecord(name);
    std::string bytes(static_cast<const char*>(ptr.get()), n);
    bool keep = true;
    edit(name, &bytes, &keep);
    if (keep) writer.writeRecord(name, bytes.data(), bytes.size());
  }
  writer.writeEndOfFile();
}

TEST(TorchZip, DamagedArchivesGiveNamedErrors) {
  const std::string src = std::string(kData) + "pickle_cases_protocol4.pth";
  const std::string dst = TempPath("damaged.pth");
  RewriteArchive(src, dst, [](const std::string&, std::string*, bool*) {});
  EXPECT_EQ(ReadCheckpoint(dst).tensors.size(), 8u);  // an untouched copy reads fine

  RewriteArchive(src, dst, [](const std::string& name, std::string* bytes, bool*) {
    if (name == "data.pkl") bytes->resize(bytes->size() / 2);
  });
  ExpectError([&] { ReadCheckpoint(dst); }, {dst, "data.pkl", "end of pickle"});

  RewriteArchive(src, dst, [](const std::string& name, std::string* bytes, bool*) {
    if (name == "data.pkl") (*bytes)[2] = static_cast<char>(0xff);  // first opcode after PROTO
  });
  ExpectError([&] { ReadCheckpoint(dst); }, {dst, "unsupported pickle opcode 0xff"});

  RewriteArchive(src, dst, [](const std::string& name, std::string*, bool* keep) { *keep = name != "data/0"; });
  ExpectError([&] { ReadCheckpoint(dst); }, {dst, "data/0", "missing"});

  RewriteArchive(src, dst, [](const std::string& name, std::string* bytes, bool*) {
    if (name == "data/0") bytes->resize(bytes->size() - 4);
  });
  ExpectError([&] { ReadCheckpoint(dst); }, {dst, "data/0", "bytes, not"});
}

TEST(TorchZip, RandomByteFlipsNeverCrash) {
  // Every damaged pickle must either still parse or throw std::runtime_error; nothing else.
  const std::string src = std::string(kData) + "pickle_cases.pth";
  const std::string dst = TempPath("flipped.pth");
  std::mt19937 rng(7);
  int parsed = 0, rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    RewriteArchive(src, dst, [&](const std::string& name, std::string* bytes, bool*) {
      if (name != "data.pkl") return;
      for (int k = 0; k < 1 + trial % 3; ++k) {
        (*bytes)[rng() % bytes->size()] = static_cast<char>(rng() % 256);
      }
    });
    try {
      ReadCheckpoint(dst);
      ++parsed;
    } catch (const std::runtime_error&) {
      ++rejected;
    }
  }
  EXPECT_EQ(parsed + rejected, 300);
  EXPECT_GT(rejected, 0);
}

TEST(Safetensors, RandomHeaderDamageNeverCrashes) {
  const std::string good = TempPath("fuzz_src.safetensors");
  WriteSafetensors(good, {{"a", torch::randn({3, 2})}, {"b", torch::arange(4)}}, {{"note", "x\\u0041"}});
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  const std::string dst = TempPath("fuzz.safetensors");
  std::mt19937 rng(11);
  const std::string alphabet = "{}[]\":,0123456789-eE.\\u ";
  int rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string damaged = bytes;
    for (int k = 0; k < 1 + trial % 3; ++k) {
      damaged[8 + rng() % header] = trial % 2 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() % 256);
    }
    std::ofstream(dst, std::ios::binary | std::ios::trunc) << damaged;
    try {
      ReadCheckpoint(dst);
    } catch (const std::runtime_error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  std::ofstream(dst, std::ios::binary | std::ios::trunc)
      << std::string("\x10\x27\0\0\0\0\0\0", 8) << "{\"a\":" << std::string(9995, '[');
  ExpectError([&] { ReadCheckpoint(dst); }, {dst, "nesting"});
  const std::string huge = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}";
  std::string len(8, '\0');
  len[0] = static_cast<char>(huge.size());
  std::ofstream(dst, std::ios::binary | std::ios::trunc) << len << huge << std::string(16, '\0');
  ExpectError([&] { ReadCheckpoint(dst); }, {dst, "'w'", "overflowing"});
}

TEST(LoadStateDict, CopiesStripsPrefixAndListsExtras) {
  torch::nn::Linear target(3, 2);
  torch::nn::Linear source(3, 2);
  StateDict sd = {{"module.weight", source->weight}, {"module.bias", source->bias}, {"module.extra", torch::ones({1})}};
  const LoadReport r = LoadStateDict(*target, sd, {}, "mem");
  EXPECT_TRUE(torch::equal(target->weight, source->weight));
  EXPECT_EQ(r.loaded.size(), 2u);
  EXPECT_EQ(r.unexpected, std::vector<std::string>{"extra"});
}

TEST(LoadStateDict, MissingAndMisShapedKeysAreNamed) {
  torch::nn::Linear target(3, 2);
  ExpectError([&] { LoadStateDict(*target, {{"weight", torch::ones({2, 3})}}, {}, "ckpt.pth"); },
              {"ckpt.pth", "missing key 'bias'", "[2]"});
  ExpectError([&] {
    LoadStateDict(*target, {{"weight", torch::ones({3, 3})}, {"bias", torch::ones({2})}}, {}, "ckpt.pth");
  }, {"ckpt.pth", "'weight'", "[3, 3]", "[2, 3]"});
  LoadOptions optional;
  optional.optional_prefixes = {"bias"};
  const LoadReport r = LoadStateDict(*target, {{"weight", torch::ones({2, 3})}}, optional, "ckpt.pth");
  EXPECT_EQ(r.missing, std::vector<std::string>{"bias"});
}

// ---------------------------------------------------------------------------------------------------------
// Hostile files (issue 18): each of these hung, crashed or allocated without bound before the reader was bounded.

std::string LittleEndian32(uint32_t v) {
  std::string s(4, '\0');
  for (int k = 0; k < 4; ++k) s[k] = static_cast<char>(v >> (8 * k));
  return s;
}

// Pickle opcodes (protocols 2+), to write hostile pickles by hand.
std::string PickleString(const std::string& s) { return "X" + LittleEndian32(static_cast<uint32_t>(s.size())) + s; }
std::string MemoPut(uint32_t k) { return "r" + LittleEndian32(k); }
std::string MemoGet(uint32_t k) { return "j" + LittleEndian32(k); }
std::string PickleInt(uint32_t v) { return "J" + LittleEndian32(v); }
const std::string kProto2("\x80\x02", 2);
const std::string kOffsetZero("K\x00", 2);  // BININT1 0

// A torch.save zip archive holding `pickle` as data.pkl and the given records (e.g. "data/0" storages).
std::string WriteTorchZip(const std::string& name, const std::string& pickle,
                          const std::vector<std::pair<std::string, std::string>>& records = {}) {
  const std::string path = TempPath(name);
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  for (const auto& [record, bytes] : records) writer.writeRecord(record, bytes.data(), bytes.size());
  writer.writeEndOfFile();
  return path;
}

TEST(HostilePickles, ADictThatHoldsItselfIsRefused) {
  // torch.save of d = {}; d['state_dict'] = d: the reader followed 'state_dict' forever at 100 % CPU.
  const std::string self =
      WriteTorchZip("self.pth", kProto2 + "}" + MemoPut(0) + PickleString("state_dict") + MemoGet(0) + "s.");
  Outcome o = RunBounded("reading " + self, {20, uint64_t{1} << 30}, [&] { ReadCheckpoint(self); });
  EXPECT_EQ(o.kind, Outcome::Kind::kThrew) << o.message;
  EXPECT_THAT(o.message, HasSubstr(self));
  EXPECT_THAT(o.message, HasSubstr("the 'state_dict' entry contains the dict that holds it (a cyclic pickle)"));
  // a['state_dict'] = b; b['model'] = a.
  const std::string pair =
      WriteTorchZip("pair.pth", kProto2 + "}" + MemoPut(0) + PickleString("state_dict") + "}" + MemoPut(1) + "s" +
                                    MemoGet(1) + PickleString("model") + MemoGet(0) + "s0.");
  o = RunBounded("reading " + pair, {20, uint64_t{1} << 30}, [&] { ReadCheckpoint(pair); });
  EXPECT_EQ(o.kind, Outcome::Kind::kThrew) << o.message;
  EXPECT_THAT(o.message, HasSubstr("the 'model' entry contains the dict that holds it"));
}

TEST(HostilePickles, DeepNestingIsFreedWithoutRecursion) {
  // 300000 lists each inside the one before: freeing them one shared_ptr at a time overflowed the stack.
  std::string pickle = kProto2 + "]" + MemoPut(0) + "0";
  for (uint32_t i = 1; i <= 300000; ++i) pickle += MemoGet(i - 1) + "]" + MemoPut(i) + "a0";
  pickle += MemoGet(0) + ".";
  const std::string path = WriteTorchZip("deep.pth", pickle);
  const Outcome o = RunBounded("reading " + path, {30, uint64_t{1} << 30}, [&] { ReadCheckpoint(path); });
  EXPECT_EQ(o.kind, Outcome::Kind::kThrew) << o.message;
  EXPECT_THAT(o.message, HasSubstr("top-level object is a list"));
}

TEST(HostilePickles, ManyKeysTakeLinearTime) {
  // 200000 distinct keys in one SETITEMS: the duplicate-key search made it quadratic (minutes).
  std::string pickle = kProto2 + "}" + MemoPut(0) + "(";
  for (int i = 0; i < 200000; ++i) pickle += PickleString("k" + std::to_string(i)) + PickleInt(i);
  pickle += "u.";
  const std::string path = WriteTorchZip("keys.pth", pickle);
  Checkpoint c;
  const Outcome o = RunBounded("reading " + path, {20, uint64_t{1} << 30}, [&] { c = ReadCheckpoint(path); });
  ASSERT_EQ(o.kind, Outcome::Kind::kReturned) << o.message;
  EXPECT_TRUE(c.tensors.empty());
  EXPECT_EQ(c.skipped_entries.size(), 200000u);
}

TEST(HostilePickles, ViewsCannotCopyOneStorageManyTimesOver) {
  // One 4 MB storage viewed whole by 400 tensors: 1.6 GB of copies from a 4 MB file.
  constexpr uint32_t kNumel = 1 << 20;
  const std::string storage = "(" + PickleString("storage") + "ctorch\nFloatStorage\n" + PickleString("0") +
                              PickleString("cpu") + PickleInt(kNumel) + "tQ";
  const std::string tensor = "ctorch._utils\n_rebuild_tensor_v2\n(" + storage + kOffsetZero + PickleInt(kNumel) +
                             "\x85K\x01\x85\x89" + "ccollections\nOrderedDict\n)RtR";
  std::string pickle = kProto2 + "}" + MemoPut(0) + "(";
  for (int i = 0; i < 400; ++i) pickle += PickleString("t" + std::to_string(i)) + tensor;
  pickle += "u.";
  const std::string path = WriteTorchZip("views.pth", pickle, {{"data/0", std::string(4 * kNumel, '\0')}});
  const Outcome o = RunBounded("reading " + path, {30, uint64_t{1} << 30}, [&] { ReadCheckpoint(path); });
  EXPECT_EQ(o.kind, Outcome::Kind::kThrew) << o.message;
  EXPECT_THAT(o.message, HasSubstr("view 1677721600 bytes of only 4194304 bytes of storage"));
}

TEST(HostileZip, ARecordClaimingGigabytesIsRefusedBeforeItIsAllocated) {
  // data/0 is 16 bytes; its directory entry is patched to say "deflated, 4 GB uncompressed".
  const std::string pickle = kProto2 + "}" + MemoPut(0) + PickleString("w") + "ctorch._utils\n_rebuild_tensor_v2\n(" +
                             "(" + PickleString("storage") + "ctorch\nFloatStorage\n" + PickleString("0") +
                             PickleString("cpu") + PickleInt(4) + "tQ" + kOffsetZero + PickleInt(4) +
                             "\x85K\x01\x85\x89" + "ccollections\nOrderedDict\n)RtRs.";
  const std::string path = WriteTorchZip("claims.pth", pickle, {{"data/0", std::string(16, '\0')}});
  ASSERT_EQ(ReadCheckpoint(path).tensors.size(), 1u);  // as written, it reads
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t entry = bytes.find("claims/data/0", bytes.find(std::string("PK\x01\x02", 4)));
  ASSERT_NE(entry, std::string::npos);
  const size_t header = entry - 46;  // the central directory entry's fixed part precedes its name
  bytes[header + 10] = 8;            // method: deflate
  bytes.replace(header + 24, 4, LittleEndian32(0xFFFFFFF0u));  // uncompressed size
  file.seekp(0);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  const Outcome o = RunBounded("reading " + path, {20, uint64_t{1} << 30}, [&] { ReadCheckpoint(path); });
  EXPECT_EQ(o.kind, Outcome::Kind::kThrew) << o.message;
  EXPECT_THAT(o.message, HasSubstr("zip record claims/data/0 claims 4294967280 bytes from 16 stored bytes"));
}

TEST(HostileSafetensors, OverlappingTensorsAreRefused) {
  // 300 tensors that all claim the same 4 MB: 1.2 GB of copies from a 4 MB file.
  std::string header = "{";
  for (int i = 0; i < 300; ++i) {
    header += std::string(i ? "," : "") + "\"t" + std::to_string(i) +
              "\":{\"dtype\":\"F32\",\"shape\":[1048576],\"data_offsets\":[0,4194304]}";
  }
  header += "}";
  std::string length(8, '\0');
  for (int k = 0; k < 8; ++k) length[k] = static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * k));
  const std::string path = TempPath("overlap.safetensors");
  std::ofstream(path, std::ios::binary) << length << header << std::string(4194304, '\0');
  const Outcome o = RunBounded("reading " + path, {20, uint64_t{1} << 30}, [&] { ReadCheckpoint(path); });
  EXPECT_EQ(o.kind, Outcome::Kind::kThrew) << o.message;
  EXPECT_THAT(o.message, HasSubstr("overlap in the data section"));
}

TEST(LoadStateDict, NonFiniteValuesAreRefusedNamingTheKey) {
  torch::nn::Linear target(3, 2);
  torch::Tensor weight = torch::ones({2, 3});
  weight[1][2] = std::numeric_limits<float>::quiet_NaN();
  ExpectError(
      [&] {
        LoadStateDict(*target, {{"weight", weight}, {"bias", torch::ones({2})}}, {}, "ckpt.pth");
      },
      {"ckpt.pth", "'weight'", "1 NaN or Inf value of 6"});
  LoadOptions lenient;
  lenient.require_finite = false;
  EXPECT_NO_THROW(LoadStateDict(*target, {{"weight", weight}, {"bias", torch::ones({2})}}, lenient, "ckpt.pth"));
}

}  // namespace
}  // namespace gcl::models

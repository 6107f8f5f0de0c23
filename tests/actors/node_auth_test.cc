// The node handshake's primitives: HMAC-SHA256 against RFC 4231's test vectors, constant-time verification, the
// secret's sources and their refusals, nonces, and authentication texts that change with every field they cover.
#include "actors/node_auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>

namespace gcl::actors {
namespace {

namespace fs = std::filesystem;

std::string Hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string text;
  for (unsigned char c : bytes) text += std::string{digits[c >> 4], digits[c & 15]};
  return text;
}

std::string Thrown(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(NodeAuthTest, MacMatchesRfc4231TestVectors) {
  // Test case 4: a 25-byte key 0x01..0x19, 50 bytes 0xcd.
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4 += static_cast<char>(i);
  EXPECT_EQ(Hex(NodeSecret::FromBytes(key4, "rfc4231").Mac(std::string(50, '\xcd'))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 6: a 131-byte key of 0xaa (longer than SHA-256's block, hashed first).
  EXPECT_EQ(Hex(NodeSecret::FromBytes(std::string(131, '\xaa'), "rfc4231")
                    .Mac("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(NodeAuthTest, VerifyAcceptsOnlyTheExactCode) {
  const NodeSecret secret = NodeSecret::FromBytes("a secret of enough bytes", "test");
  const std::string mac = secret.Mac("message");
  EXPECT_TRUE(secret.Verify("message", mac));
  EXPECT_FALSE(secret.Verify("messagE", mac));
  std::string flipped = mac;
  flipped[31] ^= 1;
  EXPECT_FALSE(secret.Verify("message", flipped));
  EXPECT_FALSE(secret.Verify("message", mac.substr(0, 16)));
  EXPECT_FALSE(secret.Verify("message", ""));
  EXPECT_FALSE(NodeSecret::FromBytes("another secret, as long", "test").Verify("message", mac));
}

TEST(NodeAuthTest, SecretSourcesAndTheirRefusals) {
  EXPECT_NE(Thrown([] { NodeSecret::FromBytes("short", "x"); }).find("fewer than 16"), std::string::npos);
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR"));
  const fs::path file = dir / "secret";
  std::ofstream(file) << "0123456789abcdef0123\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  const NodeSecret from_file = NodeSecret::FromFile(file.string());  // the trailing newline is not part of it
  EXPECT_TRUE(from_file.Verify("m", NodeSecret::FromBytes("0123456789abcdef0123", "x").Mac("m")));
  fs::permissions(file, fs::perms::group_read, fs::perm_options::add);
  EXPECT_NE(Thrown([&] { NodeSecret::FromFile(file.string()); }).find("chmod 600"), std::string::npos);
  EXPECT_NE(Thrown([&] { NodeSecret::FromFile((dir / "missing").string()); }).find("cannot read"), std::string::npos);
  unsetenv(kNodeSecretEnv);
  EXPECT_NE(Thrown([] { NodeSecret::Load(""); }).find("GCL_NODE_SECRET"), std::string::npos);
  setenv(kNodeSecretEnv, "0123456789abcdef0123", 1);
  EXPECT_TRUE(NodeSecret::Load("").Verify("m", from_file.Mac("m")));
}

TEST(NodeAuthTest, NoncesAreFreshRandomBytes) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string nonce = RandomNonce();
    EXPECT_EQ(nonce.size(), 32u);
    EXPECT_TRUE(seen.insert(nonce).second) << "a nonce repeated";
  }
}

TEST(NodeAuthTest, AuthTextsChangeWithEveryFieldTheyCover) {
  proto::JobSpec job;
  job.set_job_id("market");
  job.set_kind("train");
  job.set_attempt(1);
  job.set_payload("config bytes");
  job.set_coordinator_nonce("c-nonce");
  const std::string base = JobAuthText("w-nonce", job);
  std::set<std::string> texts = {base, JobAuthText("w-nonce2", job)};
  for (int field = 0; field < 5; ++field) {
    proto::JobSpec changed = job;
    if (field == 0) changed.set_job_id("marke");
    if (field == 1) changed.set_kind("cluster");
    if (field == 2) changed.set_attempt(2);
    if (field == 3) changed.set_payload("config byte");
    if (field == 4) changed.set_coordinator_nonce("c-nonce2");
    texts.insert(JobAuthText("w-nonce", changed));
  }
  EXPECT_EQ(texts.size(), 7u);
  // Length prefixes: moving a byte from one field to the next gives another text.
  proto::JobSpec shifted = job;
  shifted.set_job_id("marketc");
  shifted.set_kind("rain");
  EXPECT_NE(JobAuthText("w-nonce", shifted), base);

  proto::JobResult result;
  result.set_job_id("market");
  result.set_ok(true);
  result.set_payload("labels");
  const std::string r = ResultAuthText("c-nonce", result);
  proto::JobResult failed = result;
  failed.set_ok(false);
  EXPECT_NE(ResultAuthText("c-nonce", failed), r);
  EXPECT_NE(ResultAuthText("c-nonce2", result), r);
  EXPECT_NE(r.find("gcl-node-result"), std::string::npos);
  EXPECT_NE(base.find("gcl-node-job"), std::string::npos);
}

}  // namespace
}  // namespace gcl::actors

#include "actors/node_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace gcl::actors {
namespace {

constexpr char kHowToGive[] =
    "give the same secret to every node of the job: --secret_file=FILE (readable by its owner only) or the "
    "environment variable GCL_NODE_SECRET, at least 16 bytes (e.g. `openssl rand -hex 32`)";

void AppendField(std::string* text, std::string_view field) {
  const uint64_t n = field.size();
  for (int i = 0; i < 8; ++i) text->push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  text->append(field.data(), field.size());
}

}  // namespace

NodeSecret NodeSecret::FromBytes(std::string bytes, const std::string& source) {
  if (bytes.size() < kMinSecretBytes) {
    throw std::runtime_error(source + ": the node secret has " + std::to_string(bytes.size()) + " bytes, fewer than " +
                             std::to_string(kMinSecretBytes) + "; " + kHowToGive);
  }
  return NodeSecret(std::move(bytes));
}

NodeSecret NodeSecret::FromFile(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) throw std::runtime_error("--secret_file=" + path + ": cannot read the file");
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::runtime_error("--secret_file=" + path +
                             ": other users can read it; make it readable by its owner only (chmod 600)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("--secret_file=" + path + ": cannot read the file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::string key = bytes.str();
  if (!key.empty() && key.back() == '\n') key.pop_back();
  return FromBytes(std::move(key), "--secret_file=" + path);
}

NodeSecret NodeSecret::FromEnvironment() {
  const char* value = std::getenv(kNodeSecretEnv);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string("no node secret: ") + kHowToGive);
  }
  return FromBytes(value, kNodeSecretEnv);
}

NodeSecret NodeSecret::Load(const std::string& secret_file) {
  return secret_file.empty() ? FromEnvironment() : FromFile(secret_file);
}

std::string NodeSecret::Mac(std::string_view message) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed (OpenSSL)");
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool NodeSecret::Verify(std::string_view message, std::string_view mac) const {
  const std::string expected = Mac(message);
  return mac.size() == expected.size() && CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) == 0;
}

std::string RandomNonce() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a nonce (OpenSSL)");
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

std::string JobAuthText(const std::string& worker_nonce, const proto::JobSpec& job) {
  std::string text = "gcl-node-job-v1";
  AppendField(&text, worker_nonce);
  AppendField(&text, job.job_id());
  AppendField(&text, job.kind());
  AppendField(&text, std::to_string(job.attempt()));
  AppendField(&text, job.payload());
  AppendField(&text, job.coordinator_nonce());
  return text;
}

std::string ResultAuthText(const std::string& coordinator_nonce, const proto::JobResult& result) {
  std::string text = "gcl-node-result-v1";
  AppendField(&text, coordinator_nonce);
  AppendField(&text, result.job_id());
  AppendField(&text, result.kind());
  AppendField(&text, std::to_string(result.attempt()));
  AppendField(&text, result.ok() ? "ok" : "failed");
  AppendField(&text, result.error());
  AppendField(&text, result.payload());
  return text;
}

}  // namespace gcl::actors

// Authentication between the nodes of a distributed job: a shared secret that both the coordinator node and
// every worker node know, proved with HMAC-SHA256 (OpenSSL's libcrypto) over a fresh random nonce, so that only
// someone who knows the secret gets a job run, and only a worker that knows it is believed about the result.
//
//   NodeSecret secret = NodeSecret::Load(flags.secret_file);      // --secret_file=FILE, else $GCL_NODE_SECRET
//   std::string nonce = RandomNonce();                            // the worker's challenge
//   std::string mac = secret.Mac(JobAuthText(nonce, job));        // the coordinator's answer, sent with the job
//   bool ok = secret.Verify(JobAuthText(nonce, job), mac);        // the worker's check (constant time)
//
// The handshake itself lives in actors/distributed.cc; docs/ARCHITECTURE.md ("Threat model") says what it
// protects against and what it does not.
#ifndef GCL_ACTORS_NODE_AUTH_H_
#define GCL_ACTORS_NODE_AUTH_H_

#include <string>
#include <string_view>

#include "proto/actor_protocol.pb.h"

namespace gcl::actors {

// The environment variable a node reads its secret from when no --secret_file is given.
inline constexpr char kNodeSecretEnv[] = "GCL_NODE_SECRET";
// A secret shorter than this is refused: it could be guessed.
inline constexpr size_t kMinSecretBytes = 16;

class NodeSecret {
 public:
  // The file's contents without one trailing newline. Throws std::runtime_error naming the file when it cannot be
  // read, is shorter than kMinSecretBytes, or can be read by users other than its owner (chmod 600 it).
  static NodeSecret FromFile(const std::string& path);
  // $GCL_NODE_SECRET; throws when it is unset or shorter than kMinSecretBytes.
  static NodeSecret FromEnvironment();
  // FromFile(secret_file) when it is not empty, else FromEnvironment(); the error says how to give one.
  static NodeSecret Load(const std::string& secret_file);
  // For tests and callers that hold the bytes already; throws when shorter than kMinSecretBytes.
  static NodeSecret FromBytes(std::string bytes, const std::string& source);

  // HMAC-SHA256 of `message` under the secret: 32 bytes.
  std::string Mac(std::string_view message) const;
  // Whether `mac` is Mac(message), compared in constant time.
  bool Verify(std::string_view message, std::string_view mac) const;

 private:
  explicit NodeSecret(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// 32 bytes from OpenSSL's CSPRNG; throws when it fails.
std::string RandomNonce();

// What a job's MAC covers: a domain tag, the worker's nonce and every field of the job that decides what runs
// (id, kind, attempt, payload, the coordinator's nonce), each length-prefixed so that no two jobs share a text.
std::string JobAuthText(const std::string& worker_nonce, const proto::JobSpec& job);
// What a result's MAC covers: a domain tag, the coordinator's nonce of the job and every field of the result
// that the coordinator believes (id, kind, attempt, ok, error, payload).
std::string ResultAuthText(const std::string& coordinator_nonce, const proto::JobResult& result);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_NODE_AUTH_H_

// Reading and completing a RunConfig (proto/run_config.proto): text-format files from configs/, defaults for
// fields left at 0, and checks that refuse impossible values with a message naming the field.
//
//   proto::RunConfig config = LoadRunConfig("configs/quick.pbtxt");   // throws std::runtime_error
//   config = ResolveRunConfig(config);                                // defaults + checks, throws
#ifndef GCL_ACTORS_RUN_CONFIG_H_
#define GCL_ACTORS_RUN_CONFIG_H_

#include <cstdint>
#include <string>

#include "proto/run_config.pb.h"

namespace gcl::actors {

// Version of RunConfig this build reads and writes.
inline constexpr uint32_t kRunConfigVersion = 1;

// Text-format config files are a few KB; anything above this is not a config.
inline constexpr uint64_t kMaxConfigBytes = uint64_t{16} << 20;

// Parses a text-format RunConfig; throws std::runtime_error naming `path` and the parser's line:column message.
proto::RunConfig LoadRunConfig(const std::string& path);

// `config` with every 0 field set to its documented default and version set; throws std::runtime_error naming the
// field when a value is impossible: negative or absurdly large counts (epochs per phase at most 100000, summed
// without overflow), a device other than auto / cpu / cuda / cuda:N, a temperature that is not in (0, 10]
// (inf, NaN), rho or momentum outside [0, 1), ...
proto::RunConfig ResolveRunConfig(proto::RunConfig config);

// Same for a ClusterConfig: workers must be "host:port" with a port in 1..65535.
proto::ClusterConfig ResolveClusterConfig(proto::ClusterConfig config);

// Splits "host:port"; throws std::runtime_error naming `field` when malformed.
std::pair<std::string, uint16_t> ParseHostPort(const std::string& field, const std::string& text);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_RUN_CONFIG_H_

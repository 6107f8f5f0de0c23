// The runtime's backends implemented with the project's libraries (the one LibTorch translation unit of
// actors/):
//   - MakeMemoryBankBackend: losses::MemoryBank (reference §5 momentum update) and losses::SampleContrast (one
//     positive per view, K negatives by pseudo label), sampled with a CPU torch generator that checkpoints save;
//   - MakeClusterFn: clustering::ComputePseudoLabels (Jaccard k1/k2, rho eps rule, DBSCAN min_samples; §6) with
//     the RunConfig's settings;
//   - MakeEvalFn: clustering::EvaluateFeatures (mAP and CMC, same pid and camera excluded; §8);
//   - RunClusterJob: the "cluster" job kind of worker nodes (ClusterJob payload in, PseudoLabels payload out).
//
//   JobBackends b;
//   b.make_bank = [] { return MakeMemoryBankBackend(/*seed=*/1); };
//   b.cluster = MakeClusterFn();
//   b.evaluate = MakeEvalFn(query_pids, query_cams, gallery_pids, gallery_cams);
#ifndef GCL_ACTORS_GCL_BACKENDS_H_
#define GCL_ACTORS_GCL_BACKENDS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/backends.h"

namespace gcl::actors {

std::unique_ptr<BankBackend> MakeMemoryBankBackend(uint64_t seed);

// `num_threads` for the plain-C++ clustering stages (<= 0: one per hardware thread).
ClusterFn MakeClusterFn(int num_threads = 0);

// Identities and cameras of the query and gallery rows, in the order the trainer extracts them.
EvalFn MakeEvalFn(std::vector<int64_t> query_pids, std::vector<int64_t> query_camids,
                  std::vector<int64_t> gallery_pids, std::vector<int64_t> gallery_camids);

// Parses a ClusterJob, clusters its bank and returns the serialized PseudoLabels; throws std::runtime_error naming
// the problem for a payload that does not parse or validate.
std::string RunClusterJob(const std::string& payload, int num_threads = 0);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_GCL_BACKENDS_H_

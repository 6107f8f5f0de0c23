// The runtime's memory bank and clusterer, implemented with losses/ and clustering/:
//   - MakeMemoryBankBackend: losses::MemoryBank (reference §5 momentum update) and losses::SampleContrast (one
//     positive per view, K negatives by pseudo label), sampled with a CPU torch generator that checkpoints save;
//   - MakeClusterFn: clustering::ComputePseudoLabels (Jaccard k1/k2, rho eps rule, DBSCAN min_samples; §6) with
//     the RunConfig's settings;
//   - RunClusterJob / AddClusterJob: the "cluster" job kind of worker nodes (ClusterJob payload in, PseudoLabels
//     payload out).
//
//   actors::JobBackends b;
//   b.make_bank = [] { return MakeMemoryBankBackend(/*seed=*/1); };
//   b.cluster = MakeClusterFn();
#ifndef GCL_TRAINING_BANK_CLUSTER_BACKENDS_H_
#define GCL_TRAINING_BANK_CLUSTER_BACKENDS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "actors/backends.h"
#include "actors/distributed.h"
#include "clustering/pseudo_labels.h"
#include "proto/run_config.pb.h"

namespace gcl::training {

// The clustering settings of a run (k1, k2, min_samples, rho; a field left at 0 keeps the clustering library's
// default): the one mapping from RunConfig to clustering options, for every clustering pass of stage 1 and 3.
clustering::PseudoLabelOptions PseudoLabelOptionsOf(const proto::RunConfig& run, int num_threads = 0);

std::unique_ptr<actors::BankBackend> MakeMemoryBankBackend(uint64_t seed);

// `num_threads` for the plain-C++ clustering stages (<= 0: one per hardware thread).
actors::ClusterFn MakeClusterFn(int num_threads = 0);

// Parses a ClusterJob, clusters its bank and returns the serialized PseudoLabels; throws std::runtime_error naming
// the problem for a payload that does not parse or validate.
std::string RunClusterJob(const std::string& payload, int num_threads = 0);

// Registers RunClusterJob as the "cluster" job kind of a worker node.
void AddClusterJob(int num_threads, actors::JobRegistry* registry);

}  // namespace gcl::training

#endif  // GCL_TRAINING_BANK_CLUSTER_BACKENDS_H_

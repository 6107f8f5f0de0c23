// The loader pool: reads, decodes and batches the epoch's samples on worker actors while the trainer computes,
// under credit-based back-pressure.
//
// The coordinator sends the pool an EpochPlan (plan_atom); the consumer (the trainer) grants credits, one per
// batch it is ready to take. The pool never holds more batches (being built or built and waiting) than the
// consumer has credits for, and sends batches in epoch order to the actor that granted the credits. Credits carry
// over epoch boundaries, so the first batches of the next epoch are prefetched as soon as its plan arrives.
//
//   caf::actor pool = SpawnLoaderPool(system, source, /*workers=*/2);
//   self->send(pool, plan_atom::value, Versioned(plan));   // from the coordinator
//   self->send(pool, Versioned(credit));                   // from the trainer: batches then arrive as BatchMsg
//
// A sample whose file cannot be read is skipped and counted (Batch.skipped_files; the batch is then smaller);
// a batch with no readable sample, or a plan that does not validate, is reported to the plan's sender as a
// FailureMsg. Query (stats_atom) -> (batches sent, files skipped, most batches ever held at once).
#ifndef GCL_ACTORS_LOADER_H_
#define GCL_ACTORS_LOADER_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "actors/backends.h"
#include "proto/actor_protocol.pb.h"

namespace gcl::actors {

// Spawns the pool front and `workers` detached worker actors that share `source` (its Load must be safe to call
// from several threads at once). With `warmup_source` set, plans of PHASE_WARMUP index and load that source
// instead (UDA mode: stage 1 on the labelled source dataset).
caf::actor SpawnLoaderPool(caf::actor_system& system, std::shared_ptr<SampleSource> source, int workers,
                           std::shared_ptr<SampleSource> warmup_source = nullptr);

// The epoch's sample order: `plan.indices` shuffled by a Fisher-Yates pass driven by mt19937_64(plan.seed), so
// any run (or a resumed one) replays it. Element i is a position into plan.indices.
std::vector<int64_t> EpochOrder(const proto::EpochPlan& plan);

// Batches of an epoch: floor(#indices / batch size) (reference §6: drop_last).
int64_t BatchesInEpoch(const proto::EpochPlan& plan);

// Seed of one sample's random choices in one epoch (structure angle, ...): a mix of the epoch seed and the index.
uint64_t SampleSeed(uint64_t epoch_seed, int64_t index);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_LOADER_H_

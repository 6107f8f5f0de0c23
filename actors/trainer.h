// The trainer: the one actor that owns the networks E_id, E_str, G, D and their optimizers (behind a
// TrainerBackend, on the device it chose at run time). Spawned detached: a step blocks its own thread only.
//
// Per epoch the coordinator requests (epoch_atom, EpochPlanMsg) and gets the EpochSummaryMsg when the epoch's
// last batch is trained. Batches come from the loader pool; the trainer grants it `prefetch` credits once and one
// more per batch it consumed. In the joint phase every step first asks the memory bank for its contrast rows
// (sample_atom) and afterwards sends the bank the step's FeatureUpdate; both travel in order on one channel, so
// step n+1 samples a bank that already holds step n's update (reference §5: the loss uses the memory before the
// step's own update).
//
//   caf::actor trainer = SpawnTrainer(system, std::move(backend), loader, bank, num_samples, /*prefetch=*/4);
//   self->request(trainer, caf::infinite, epoch_atom::value, Versioned(plan)).then([](EpochSummaryMsg& s) {...});
//
// Other requests: (save_atom) -> CheckpointMsg with the backend's part; (restore_atom, CheckpointMsg);
// (extract_atom, std::string split) -> TensorMsg. A step that throws (c10::Error, bad_alloc) fails the epoch with
// gcl_errc::step_failed naming the cause; a malformed batch is answered with gcl_errc::protocol and dropped.
#ifndef GCL_ACTORS_TRAINER_H_
#define GCL_ACTORS_TRAINER_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstdint>
#include <memory>

#include "actors/backends.h"

namespace gcl::actors {

// `num_samples`: rows of the training set, the bound of every plan's and batch's indices; `warmup_num_samples`
// (> 0) the bound in PHASE_WARMUP when the warm-up iterates another set (JobBackends::warmup_set).
caf::actor SpawnTrainer(caf::actor_system& system, std::unique_ptr<TrainerBackend> backend, caf::actor loader,
                        caf::actor bank, int64_t num_samples, int prefetch, int num_negatives,
                        int64_t warmup_num_samples = 0);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_TRAINER_H_

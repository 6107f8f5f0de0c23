// The coordinator: the run's state machine (reference §7 stages: E_id warm-up -> GAN warm-up -> joint -> done).
// It spawns and supervises the other actors of one training job (loader pool, trainer, memory bank, clusterer,
// evaluator, checkpointer), drives epochs and answers (run_atom) with the RunReportMsg when the run ends.
//
//   proto::RunConfig config = ResolveRunConfig(LoadRunConfig(path));
//   caf::actor job = SpawnCoordinator(system, config, backends, /*checkpoint_dir=*/"runs/quick/checkpoints",
//                                     /*resume=*/false);
//   self->request(job, caf::infinite, run_atom::value).receive([](RunReportMsg& report) {...}, ...);
//
// The state machine is drawn at the top of coordinator.cc; docs/ARCHITECTURE.md explains the data flow.
#ifndef GCL_ACTORS_COORDINATOR_H_
#define GCL_ACTORS_COORDINATOR_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <string>

#include "actors/backends.h"
#include "proto/run_config.pb.h"

namespace gcl::actors {

// `config` must be resolved (ResolveRunConfig). With `resume`, the run continues from the newest checkpoint in
// `checkpoint_dir` (a fresh start when there is none).
caf::actor SpawnCoordinator(caf::actor_system& system, const proto::RunConfig& config, JobBackends backends,
                            const std::string& checkpoint_dir, bool resume);

// Seed of one epoch's shuffle and sample randomness: a mix of the run seed, the phase and the epoch.
uint64_t EpochSeed(uint64_t run_seed, proto::Phase phase, int64_t epoch);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_COORDINATOR_H_

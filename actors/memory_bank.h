// The memory bank actor: owns the N x D bank of L2-normalised embeddings and the pseudo labels (reference §5),
// behind a BankBackend that does the arithmetic. Everyone else sees it through messages only:
//   (init_atom, BankSnapshotMsg)            replace the bank (stage-3 start: eval features of the train set)
//   FeatureUpdateMsg                        momentum update after a trainer step
//   (sample_atom, ContrastRequestMsg)       -> ContrastRowsMsg: the rows one joint step contrasts against
//   (snapshot_atom)                         -> BankSnapshotMsg: input of the clusterer and of checkpoints
//   (labels_atom, PseudoLabelsMsg)          new pseudo labels for the next epoch
//   (save_atom) -> CheckpointMsg (memory_features, pseudo_labels, its random stream); (restore_atom, CheckpointMsg)
// Messages are checked against the bank's size first; a bad one is answered with gcl_errc::protocol.
#ifndef GCL_ACTORS_MEMORY_BANK_H_
#define GCL_ACTORS_MEMORY_BANK_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

#include "actors/backends.h"

namespace gcl::actors {

// `momentum`: alpha of the update (reference §5: 0.2).
caf::actor SpawnMemoryBank(caf::actor_system& system, std::unique_ptr<BankBackend> backend, double momentum);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_MEMORY_BANK_H_

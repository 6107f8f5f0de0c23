// The evaluator: computes retrieval metrics (an EvalFn over evaluation/'s metrics, reference §8) from query and
// gallery features the coordinator got from the trainer, on its own thread, while the next epoch trains.
//
//   self->request(evaluator, timeout, evaluate_atom::value, query_features, gallery_features)
//       .then([](EvalReportMsg& report) {...});
//
// Features must be float32 2-D tensors of one width; a mismatch is answered with gcl_errc::protocol, an exception
// of the EvalFn with gcl_errc::step_failed naming it.
#ifndef GCL_ACTORS_EVALUATOR_H_
#define GCL_ACTORS_EVALUATOR_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/backends.h"

namespace gcl::actors {

caf::actor SpawnEvaluator(caf::actor_system& system, EvalFn evaluate);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_EVALUATOR_H_

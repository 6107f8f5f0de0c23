// The clusterer: a detached actor that turns a memory-bank snapshot into pseudo labels with a ClusterFn
// (clustering/: Jaccard distance, eps rule, DBSCAN; reference §6). It holds no state between passes, so
// restarting it after a failure loses nothing.
//
//   caf::actor clusterer = SpawnClusterer(system, cluster_fn, config);
//   self->request(clusterer, timeout, cluster_atom::value, snapshot).then([](PseudoLabelsMsg& labels) {...},
//                                                                        [](caf::error& e) { /* restart */ });
//
// An exception in the pass is answered with gcl_errc::cluster_failed carrying its message; a malformed snapshot
// with gcl_errc::protocol; labels of the wrong size from the ClusterFn with gcl_errc::cluster_failed.
#ifndef GCL_ACTORS_CLUSTERER_H_
#define GCL_ACTORS_CLUSTERER_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/backends.h"
#include "proto/run_config.pb.h"

namespace gcl::actors {

caf::actor SpawnClusterer(caf::actor_system& system, ClusterFn cluster, const proto::RunConfig& config);

// The clusterer's behavior, for hosting it elsewhere (a worker node publishes one).
caf::behavior ClustererBehavior(ClusterFn cluster, proto::RunConfig config);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_CLUSTERER_H_

#include "actors/clusterer.h"

#include <caf/all.hpp>

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "actors/protocol.h"
#include "actors/validate.h"

namespace gcl::actors {

caf::behavior ClustererBehavior(ClusterFn cluster, proto::RunConfig config) {
  return {
      [cluster, config](cluster_atom, const BankSnapshotMsg& msg) -> caf::result<PseudoLabelsMsg> {
        if (std::string problem = ValidateBankSnapshot(msg.value); !problem.empty()) {
          return MakeProtocolError(problem);
        }
        const int64_t rows = msg.value.features().shape(0);
        const auto start = std::chrono::steady_clock::now();
        proto::PseudoLabels labels;
        try {
          labels = cluster(msg.value, config);
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::cluster_failed, std::string("clusterer: ") + e.what());
        } catch (...) {
          return MakeJobError(gcl_errc::cluster_failed, "clusterer: an exception that is not a std::exception");
        }
        labels.set_version(kActorProtocolVersion);
        labels.set_epoch(msg.value.epoch());
        labels.set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (std::string problem = ValidatePseudoLabels(labels, rows); !problem.empty()) {
          return MakeJobError(gcl_errc::cluster_failed, "clusterer: its result is malformed: " + problem);
        }
        return Wrap(std::move(labels));
      },
  };
}

caf::actor SpawnClusterer(caf::actor_system& system, ClusterFn cluster, const proto::RunConfig& config) {
  return system.spawn<caf::detached>(ClustererBehavior, std::move(cluster), config);
}

}  // namespace gcl::actors

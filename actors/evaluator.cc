#include "actors/evaluator.h"

#include <caf/all.hpp>

#include <exception>
#include <string>
#include <utility>

#include "actors/protocol.h"
#include "actors/validate.h"

namespace gcl::actors {
namespace {

caf::behavior Evaluator(EvalFn evaluate) {
  return {
      [evaluate](evaluate_atom, const TensorMsg& query, const TensorMsg& gallery) -> caf::result<EvalReportMsg> {
        for (const auto& [field, tensor] : {std::make_pair("query", &query.value),
                                            std::make_pair("gallery", &gallery.value)}) {
          if (std::string p = CheckTensorShape(field, *tensor, proto::DTYPE_FLOAT32, {-1, -1}); !p.empty()) {
            return MakeProtocolError("evaluate " + p);
          }
        }
        if (query.value.shape(1) != gallery.value.shape(1)) {
          return MakeProtocolError("evaluate: query features are " + std::to_string(query.value.shape(1)) +
                                   "-d, gallery features " + std::to_string(gallery.value.shape(1)) + "-d");
        }
        try {
          return Versioned(evaluate(query.value, gallery.value));
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::step_failed, std::string("evaluator: ") + e.what());
        }
      },
  };
}

}  // namespace

caf::actor SpawnEvaluator(caf::actor_system& system, EvalFn evaluate) {
  return system.spawn<caf::detached>(Evaluator, std::move(evaluate));
}

}  // namespace gcl::actors

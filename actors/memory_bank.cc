#include "actors/memory_bank.h"

#include <caf/all.hpp>

#include <exception>
#include <string>
#include <utility>

#include "actors/protocol.h"
#include "actors/validate.h"

namespace gcl::actors {
namespace {

struct BankState {
  std::unique_ptr<BankBackend> backend;
  double momentum = 0.2;
  bool ready = false;
  const char* name = "memory_bank";
};

using BankActor = caf::stateful_actor<BankState>;

// Runs `f` (no result); an exception becomes an error naming `what`.
template <class F>
caf::result<void> Try(const std::string& what, F&& f) {
  try {
    f();
    return caf::unit;
  } catch (const std::exception& e) {
    return MakeJobError(gcl_errc::step_failed, "memory bank: " + what + ": " + e.what());
  }
}

caf::error NotReady() { return MakeJobError(gcl_errc::not_ready, "memory bank: not initialised yet"); }

template <class F>
auto Guard(const std::string& what, F&& f) -> caf::result<decltype(f())> {
  try {
    return f();
  } catch (const std::exception& e) {
    return MakeJobError(gcl_errc::step_failed, "memory bank: " + what + ": " + e.what());
  }
}

caf::behavior MemoryBank(BankActor* self, std::shared_ptr<std::unique_ptr<BankBackend>> backend,
                         double momentum) {
  self->state.backend = std::move(*backend);
  self->state.momentum = momentum;
  return {
      [=](init_atom, const BankSnapshotMsg& msg) -> caf::result<void> {
        if (std::string problem = ValidateBankSnapshot(msg.value); !problem.empty()) {
          return MakeProtocolError(problem);
        }
        caf::result<void> r = Try("init", [&] {
          self->state.backend->Reset(msg.value);
        });
        if (r.flag == caf::rt_value) self->state.ready = true;
        return r;
      },
      [=](const FeatureUpdateMsg& msg) -> caf::result<void> {
        auto& st = self->state;
        if (!st.ready) return NotReady();
        if (std::string p = ValidateFeatureUpdate(msg.value, st.backend->rows(), st.backend->dim()); !p.empty()) {
          return MakeProtocolError(p);
        }
        caf::result<void> r = Try("update", [&] {
          st.backend->Update(msg.value, st.momentum);
        });
        return r;
      },
      [=](sample_atom, const ContrastRequestMsg& msg) -> caf::result<ContrastRowsMsg> {
        auto& st = self->state;
        if (!st.ready) return NotReady();
        if (std::string p = CheckVersion("ContrastRequest", msg.value.version()); !p.empty()) {
          return MakeProtocolError(p);
        }
        for (int64_t index : msg.value.indices()) {
          if (index < 0 || index >= st.backend->rows()) {
            return MakeProtocolError("ContrastRequest.indices: " + std::to_string(index) + " is outside [0, " +
                                     std::to_string(st.backend->rows()) + ")");
          }
        }
        if (msg.value.num_negatives() <= 0) return MakeProtocolError("ContrastRequest.num_negatives: not > 0");
        return Guard("sample", [&] { return Versioned(st.backend->Sample(msg.value)); });
      },
      [=](snapshot_atom) -> caf::result<BankSnapshotMsg> {
        if (!self->state.ready) return NotReady();
        return Guard("snapshot", [&] { return Versioned(self->state.backend->Snapshot()); });
      },
      [=](labels_atom, const PseudoLabelsMsg& msg) -> caf::result<void> {
        auto& st = self->state;
        if (!st.ready) return NotReady();
        if (std::string p = ValidatePseudoLabels(msg.value, st.backend->rows()); !p.empty()) {
          return MakeProtocolError(p);
        }
        caf::result<void> r = Try("labels", [&] {
          st.backend->SetLabels(msg.value);
        });
        return r;
      },
      [=](save_atom) -> caf::result<CheckpointMsg> {
        auto& st = self->state;
        if (!st.ready) return NotReady();
        return Guard("save", [&] {
          proto::BankSnapshot snapshot = st.backend->Snapshot();
          proto::Checkpoint part;
          *part.mutable_memory_features() = std::move(*snapshot.mutable_features());
          *part.mutable_pseudo_labels() = snapshot.labels();
          proto::RngState* rng = part.add_rng();
          rng->set_name("memory_bank");
          rng->set_state(st.backend->SaveRng());
          return Wrap(std::move(part));
        });
      },
      [=](restore_atom, const CheckpointMsg& msg) -> caf::result<void> {
        auto& st = self->state;
        if (!msg.value.has_memory_features()) return caf::unit;  // saved before the bank existed
        proto::BankSnapshot snapshot;
        snapshot.set_version(kActorProtocolVersion);
        *snapshot.mutable_features() = msg.value.memory_features();
        *snapshot.mutable_labels() = msg.value.pseudo_labels();
        if (std::string p = ValidateBankSnapshot(snapshot); !p.empty()) return MakeProtocolError(p);
        caf::result<void> r = Try("restore", [&] {
          st.backend->Restore(snapshot);
          for (const proto::RngState& rng : msg.value.rng()) {
            if (rng.name() == "memory_bank") st.backend->RestoreRng(rng.state());
          }
        });
        if (r.flag == caf::rt_value) st.ready = true;
        return r;
      },
  };
}

}  // namespace

caf::actor SpawnMemoryBank(caf::actor_system& system, std::unique_ptr<BankBackend> backend, double momentum) {
  auto holder = std::make_shared<std::unique_ptr<BankBackend>>(std::move(backend));
  return system.spawn(MemoryBank, holder, momentum);
}

}  // namespace gcl::actors

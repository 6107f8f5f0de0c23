#include "actors/trainer.h"

#include <caf/all.hpp>

#include <chrono>
#include <exception>
#include <map>
#include <string>
#include <utility>

#include "actors/loader.h"
#include "actors/protocol.h"
#include "actors/validate.h"

namespace gcl::actors {
namespace {

using Clock = std::chrono::steady_clock;

struct TrainerState {
  std::unique_ptr<TrainerBackend> backend;
  caf::actor loader;
  caf::actor bank;
  int64_t num_samples = 0;
  int64_t warmup_num_samples = 0;  // > 0: the warm-up phase's set has this many rows
  int num_negatives = 0;
  int64_t global_step = 0;
  // The epoch in progress.
  bool active = false;
  proto::EpochPlan plan;
  int64_t num_batches = 0;
  int64_t next_batch = 0;
  caf::response_promise promise;
  std::map<std::string, double> loss_sums;
  int64_t steps = 0;
  int64_t skipped = 0;
  Clock::time_point epoch_start;
  Clock::time_point idle_since;  // end of the last step: from here the trainer waits for a batch
  double waiting = 0;
  int64_t rejected = 0;
  const char* name = "trainer";
};

using TrainerActor = caf::stateful_actor<TrainerState>;

// Rows of the set that plans and batches of `phase` index.
int64_t RowsOf(const TrainerState& st, proto::Phase phase) {
  return phase == proto::PHASE_WARMUP && st.warmup_num_samples > 0 ? st.warmup_num_samples : st.num_samples;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void FailEpoch(TrainerActor* self, const caf::error& error) {
  auto& st = self->state;
  if (!st.active) return;
  st.active = false;
  st.promise.deliver(error);
}

void FinishEpoch(TrainerActor* self) {
  auto& st = self->state;
  try {
    st.backend->EndEpoch(st.plan.phase(), st.plan.epoch());
  } catch (const std::exception& e) {
    FailEpoch(self, MakeJobError(gcl_errc::step_failed, std::string("trainer: end of epoch: ") + e.what()));
    return;
  }
  proto::EpochSummary summary;
  summary.set_phase(st.plan.phase());
  summary.set_epoch(st.plan.epoch());
  summary.set_steps(st.steps);
  for (const auto& [name, sum] : st.loss_sums) (*summary.mutable_mean_losses())[name] = sum / st.steps;
  summary.set_skipped_files(static_cast<int32_t>(st.skipped));
  summary.set_seconds(Seconds(Clock::now() - st.epoch_start));
  summary.set_seconds_waiting_for_batches(st.waiting);
  st.active = false;
  st.promise.deliver(Versioned(std::move(summary)));
}

// Trains on one batch with the memory rows `contrast` (empty outside the joint phase).
void TrainStep(TrainerActor* self, const proto::Batch& batch, const proto::ContrastRows& contrast) {
  auto& st = self->state;
  StepOutput out;
  try {
    out = st.backend->Step(batch, contrast);
  } catch (const std::exception& e) {
    FailEpoch(self, MakeJobError(gcl_errc::step_failed, "trainer: step " + std::to_string(batch.batch()) +
                                                            " of epoch " + std::to_string(batch.epoch()) + ": " +
                                                            e.what()));
    return;
  } catch (...) {
    FailEpoch(self, MakeJobError(gcl_errc::step_failed, "trainer: step " + std::to_string(batch.batch()) +
                                                            " of epoch " + std::to_string(batch.epoch()) +
                                                            ": an exception that is not a std::exception"));
    return;
  }
  if (batch.phase() == proto::PHASE_JOINT) {
    out.memory_update.set_version(kActorProtocolVersion);
    self->send(st.bank, Wrap(std::move(out.memory_update)));
  }
  proto::Credit credit;
  credit.set_credits(1);
  self->send(st.loader, Versioned(std::move(credit)));
  for (const auto& [name, value] : out.losses) st.loss_sums[name] += value;
  ++st.steps;
  ++st.global_step;
  st.skipped += batch.skipped_files();
  ++st.next_batch;
  st.idle_since = Clock::now();
  if (st.next_batch == st.num_batches) FinishEpoch(self);
}

caf::behavior Trainer(TrainerActor* self, std::shared_ptr<std::unique_ptr<TrainerBackend>> backend,
                      caf::actor loader, caf::actor bank, int64_t num_samples, int prefetch, int num_negatives,
                      int64_t warmup_num_samples) {
  auto& st = self->state;
  st.backend = std::move(*backend);
  st.loader = std::move(loader);
  st.bank = std::move(bank);
  st.num_samples = num_samples;
  st.warmup_num_samples = warmup_num_samples;
  st.num_negatives = num_negatives;
  if (st.loader && prefetch > 0) {
    proto::Credit credit;
    credit.set_credits(prefetch);
    self->send(st.loader, Versioned(std::move(credit)));
  }
  return {
      [=](epoch_atom, const EpochPlanMsg& msg) -> caf::result<EpochSummaryMsg> {
        auto& s = self->state;
        if (std::string problem = ValidateEpochPlan(msg.value, RowsOf(s, msg.value.phase())); !problem.empty()) {
          return MakeProtocolError(problem);
        }
        if (s.active) return MakeJobError(gcl_errc::not_ready, "trainer: an epoch is already in progress");
        s.plan = msg.value;
        s.num_batches = BatchesInEpoch(s.plan);
        s.next_batch = 0;
        s.loss_sums.clear();
        s.steps = 0;
        s.skipped = 0;
        s.waiting = 0;
        s.epoch_start = Clock::now();
        s.idle_since = s.epoch_start;
        s.promise = self->make_response_promise();
        s.active = true;
        if (s.num_batches == 0) FinishEpoch(self);
        return s.promise;
      },
      [=](const BatchMsg& msg) -> caf::result<void> {
        auto& s = self->state;
        BatchLimits limits;
        limits.num_samples = RowsOf(s, msg.value.phase());
        limits.max_batch = s.active ? s.plan.batch_size() : 0;
        limits.needs_labels = msg.value.phase() == proto::PHASE_JOINT;
        limits.needs_structure = msg.value.phase() != proto::PHASE_WARMUP;
        std::string problem = ValidateBatch(msg.value, limits);
        if (problem.empty() && !s.active) problem = "Batch: no epoch in progress";
        if (problem.empty() && (msg.value.phase() != s.plan.phase() || msg.value.epoch() != s.plan.epoch() ||
                                msg.value.batch() != s.next_batch)) {
          problem = "Batch: got batch " + std::to_string(msg.value.batch()) + " of epoch " +
                    std::to_string(msg.value.epoch()) + ", expected batch " + std::to_string(s.next_batch) +
                    " of epoch " + std::to_string(s.plan.epoch());
        }
        if (!problem.empty()) {
          ++s.rejected;
          // A bad batch of the epoch in progress would leave the epoch waiting for it forever: fail the epoch.
          if (s.active && msg.value.phase() == s.plan.phase() && msg.value.epoch() == s.plan.epoch()) {
            FailEpoch(self, MakeProtocolError("trainer rejected a batch of its epoch: " + problem));
          }
          return MakeProtocolError(problem);
        }
        s.waiting += Seconds(Clock::now() - s.idle_since);
        if (msg.value.phase() != proto::PHASE_JOINT || !s.backend->UsesContrastRows()) {
          TrainStep(self, msg.value, proto::ContrastRows{});
          return caf::unit;
        }
        proto::ContrastRequest request;
        request.mutable_indices()->CopyFrom(msg.value.indices());
        request.set_num_negatives(s.num_negatives);
        // await: no other batch is looked at until this step is done, so steps stay in order.
        BatchMsg batch = msg;
        self->request(s.bank, caf::infinite, sample_atom::value, Versioned(std::move(request)))
            .await([=](const ContrastRowsMsg& rows) { TrainStep(self, batch.value, rows.value); },
                   [=](caf::error& error) {
                     FailEpoch(self, MakeJobError(gcl_errc::step_failed,
                                                  "trainer: memory bank refused the contrast rows: " +
                                                      DescribeError(error)));
                   });
        return caf::unit;
      },
      [=](save_atom) -> caf::result<CheckpointMsg> {
        proto::Checkpoint checkpoint;
        try {
          self->state.backend->Save(&checkpoint);
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::io_failed, std::string("trainer: save: ") + e.what());
        }
        checkpoint.set_global_step(self->state.global_step);
        return Wrap(std::move(checkpoint));
      },
      [=](restore_atom, const CheckpointMsg& msg) -> caf::result<void> {
        try {
          self->state.backend->Restore(msg.value);
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::io_failed, std::string("trainer: restore: ") + e.what());
        }
        self->state.global_step = msg.value.global_step();
        return caf::unit;
      },
      [=](extract_atom, const std::string& split) -> caf::result<TensorMsg> {
        try {
          return Wrap(self->state.backend->ExtractFeatures(split));
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::step_failed, "trainer: features of '" + split + "': " + e.what());
        }
      },
      [=](stats_atom) { return std::vector<int64_t>{self->state.global_step, self->state.rejected}; },
  };
}

}  // namespace

caf::actor SpawnTrainer(caf::actor_system& system, std::unique_ptr<TrainerBackend> backend, caf::actor loader,
                        caf::actor bank, int64_t num_samples, int prefetch, int num_negatives,
                        int64_t warmup_num_samples) {
  // spawn copies its arguments; a shared_ptr carries the move-only backend into the actor.
  auto holder = std::make_shared<std::unique_ptr<TrainerBackend>>(std::move(backend));
  return system.spawn<caf::detached>(Trainer, holder, std::move(loader), std::move(bank), num_samples, prefetch,
                                     num_negatives, warmup_num_samples);
}

}  // namespace gcl::actors

// The coordinator's state machine. [idle] and [running] are behaviors; inside `running` the phase and epoch are
// data, advanced by the transitions drawn here. On [done] or [stopped] the coordinator answers the run request with
// the RunReport, shuts its children down and quits.
//
//             (run_atom)
//   [idle] ---------------> [restore] --(--resume, checkpoint found)--> phase + epoch from the checkpoint --+
//                               |                                                                          |
//                               +--(fresh start, or no checkpoint)----+                                    |
//                                                                     v                                    v
//    +---------------------------------------------- running ------------------------------------------------+
//    |                                                                                                       |
//    |   [warmup] ----warmup done----> [gan_warmup] ----gan warm-up done----> [joint] ----joint done----> [done]
//    |    ^    |                        ^    |                                 ^    |
//    |    +----+ one epoch:             +----+ one epoch                       +----+ one epoch:
//    |           plan -> loader,                                                     (first: bank <- train features)
//    |           epoch request -> trainer,                                           labels ready? -> plan -> train
//    |           summary -> boundary work                                            boundary: next clustering starts
//    |                                                                               beside evaluation + checkpoint
//    +-------------------------------------------------------------------------------------------------------+
//         unrecoverable failure anywhere (trainer step, loader, clusterer after its retries, a child going down)
//         ---> [stopped]: the report says why; the last checkpoint is intact
//
// A phase with 0 epochs is skipped. Recoverable failures (a clusterer pass that throws) restart the failed
// actor and retry; each one is listed in the report.
#include "actors/coordinator.h"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/checkpointer.h"
#include "actors/clusterer.h"
#include "actors/evaluator.h"
#include "actors/loader.h"
#include "actors/memory_bank.h"
#include "actors/protocol.h"
#include "actors/trainer.h"
#include "actors/validate.h"

namespace gcl::actors {
namespace {

using Clock = std::chrono::steady_clock;

struct CoordinatorState {
  proto::RunConfig config;
  JobBackends backends;
  std::string checkpoint_dir;
  bool resume = false;
  caf::timespan timeout{};
  int64_t num_samples = 0;
  caf::actor loader, trainer, bank, clusterer, evaluator, checkpointer;
  // Where the run stands: the phase and the next epoch to train in it.
  proto::Phase phase = proto::PHASE_UNSPECIFIED;
  int64_t epoch = 0;
  int64_t global_step = 0;
  bool bank_ready = false;
  // Pseudo labels in use, and the next ones (from the clustering started at the last boundary).
  bool have_labels = false;
  proto::PseudoLabels labels;
  bool clustering = false;
  bool pending_ready = false;
  proto::PseudoLabels pending;
  bool waiting_for_labels = false;
  Clock::time_point wait_start;
  double label_wait = 0;
  int cluster_failures = 0;
  // Evaluations and checkpoint writes in flight; the run reports only when they are done.
  int pending_tasks = 0;
  bool finishing = false;
  bool stopped = false;
  proto::RunReport report;
  caf::response_promise run_promise;
  // A backend that could not be built (e.g. a corrupt model.identity_init, an unknown device): the run request is
  // answered with this cause instead of the coordinator dying with it.
  std::string init_error_actor, init_error;
  const char* name = "coordinator";
};

using CoordActor = caf::stateful_actor<CoordinatorState>;

void NextEpoch(CoordActor* self);
void Stop(CoordActor* self, const std::string& cause);

int64_t EpochsOf(const proto::RunConfig& c, proto::Phase phase) {
  switch (phase) {
    case proto::PHASE_WARMUP:
      return c.warmup_epochs();
    case proto::PHASE_GAN_WARMUP:
      return c.gan_warmup_epochs();
    case proto::PHASE_JOINT:
      return c.joint_epochs();
    default:
      return 0;
  }
}

proto::Phase Following(proto::Phase phase) {
  switch (phase) {
    case proto::PHASE_UNSPECIFIED:
      return proto::PHASE_WARMUP;
    case proto::PHASE_WARMUP:
      return proto::PHASE_GAN_WARMUP;
    case proto::PHASE_GAN_WARMUP:
      return proto::PHASE_JOINT;
    default:
      return proto::PHASE_DONE;
  }
}

// Moves (phase, epoch) past finished phases: the next epoch that should run, or PHASE_DONE.
void Advance(const proto::RunConfig& config, proto::Phase* phase, int64_t* epoch) {
  while (*phase != proto::PHASE_DONE && (*phase == proto::PHASE_UNSPECIFIED || *epoch >= EpochsOf(config, *phase))) {
    *phase = Following(*phase);
    *epoch = 0;
  }
}

void RecordFailure(CoordActor* self, const std::string& actor, const std::string& cause, bool recoverable) {
  proto::Failure* failure = self->state.report.add_failures();
  failure->set_version(kActorProtocolVersion);
  failure->set_actor(actor);
  failure->set_cause(cause);
  failure->set_phase(self->state.phase);
  failure->set_epoch(self->state.epoch);
  failure->set_recoverable(recoverable);
}

void MaybeFinish(CoordActor* self) {
  auto& st = self->state;
  // Checkpoint writes in flight are waited for; a clustering pass is not (its labels would go unused).
  if (!st.finishing || st.pending_tasks > 0) return;
  st.report.set_version(kActorProtocolVersion);
  st.report.set_phase(st.stopped ? st.phase : proto::PHASE_DONE);
  st.report.set_completed(!st.stopped);
  st.report.set_global_step(st.global_step);
  for (const caf::actor& child : {st.loader, st.trainer, st.bank, st.clusterer, st.evaluator, st.checkpointer}) {
    if (child) {
      self->demonitor(child);
      self->send_exit(child, caf::exit_reason::user_shutdown);
    }
  }
  if (st.run_promise.pending()) st.run_promise.deliver(Wrap(st.report));
  // Done: the coordinator ends too (pending request timeouts must not keep it, and the system, alive).
  self->quit();
}

void Stop(CoordActor* self, const std::string& cause) {
  auto& st = self->state;
  if (st.stopped) {
    MaybeFinish(self);  // a later failure: the first cause stays, the run may be ready to report now
    return;
  }
  st.stopped = true;
  st.finishing = true;
  st.report.set_error(cause);
  MaybeFinish(self);
}

void RestartClusterer(CoordActor* self) {
  auto& st = self->state;
  if (st.clusterer) self->send_exit(st.clusterer, caf::exit_reason::user_shutdown);
  st.clusterer = SpawnClusterer(self->system(), st.backends.cluster, st.config);
}

void OnLabels(CoordActor* self, proto::PseudoLabels labels) {
  auto& st = self->state;
  st.clustering = false;
  st.pending = std::move(labels);
  st.pending_ready = true;
  if (st.finishing) {
    MaybeFinish(self);
    return;
  }
  if (st.waiting_for_labels) {
    st.waiting_for_labels = false;
    st.label_wait += std::chrono::duration<double>(Clock::now() - st.wait_start).count();
    NextEpoch(self);
  }
}

void SendToClusterer(CoordActor* self, BankSnapshotMsg snapshot) {
  auto& st = self->state;
  self->request(st.clusterer, st.timeout, cluster_atom::value, snapshot)
      .then([=](PseudoLabelsMsg& labels) { OnLabels(self, std::move(labels.value)); },
            [=](caf::error& error) {
              auto& s = self->state;
              const std::string cause = DescribeError(error);
              const bool retry = ++s.cluster_failures <= s.config.clusterer_retries() && !s.finishing;
              RecordFailure(self, "clusterer", cause, retry);
              if (!retry) {
                s.clustering = false;
                Stop(self, "clusterer failed " + std::to_string(s.cluster_failures) + " time(s); last: " + cause);
                MaybeFinish(self);
                return;
              }
              RestartClusterer(self);
              SendToClusterer(self, snapshot);
            });
}

// Clusters the bank as it stands now (its snapshot is taken before any later update reaches the bank).
void InitBank(CoordActor* self, std::function<void()> then);

void RequestClustering(CoordActor* self) {
  auto& st = self->state;
  st.clustering = true;
  st.pending_ready = false;
  const int64_t epoch = st.epoch;
  auto snapshot_and_cluster = [=] {
    self->request(self->state.bank, self->state.timeout, snapshot_atom::value)
        .then(
            [=](BankSnapshotMsg& snapshot) {
              snapshot.value.set_epoch(epoch);
              SendToClusterer(self, std::move(snapshot));
            },
            [=](caf::error& error) {
              self->state.clustering = false;
              Stop(self, "memory bank snapshot: " + DescribeError(error));
            });
  };
  // run.refresh_memory_each_epoch: the memory is made anew from the train features before it is clustered
  // (epoch 0's memory was made so a moment ago).
  if (st.config.refresh_memory_each_epoch() && epoch > 0) {
    InitBank(self, snapshot_and_cluster);
  } else {
    snapshot_and_cluster();
  }
}

// The pending labels become the ones in use (sent to the bank before the epoch's plan, so the trainer's first
// sample request finds them).
void ApplyPendingLabels(CoordActor* self) {
  auto& st = self->state;
  st.labels = std::move(st.pending);
  st.pending_ready = false;
  st.have_labels = true;
  st.cluster_failures = 0;
  self->request(st.bank, st.timeout, labels_atom::value, Versioned(st.labels))
      .then([] {}, [=](caf::error& error) { Stop(self, "memory bank refused the labels: " + DescribeError(error)); });
}

void EndEpoch(CoordActor* self, proto::EpochSummary summary);

void StartEpoch(CoordActor* self) {
  auto& st = self->state;
  proto::EpochPlan plan;
  plan.set_version(kActorProtocolVersion);
  plan.set_phase(st.phase);
  plan.set_epoch(st.epoch);
  plan.set_batch_size(st.config.batch_size());
  plan.set_seed(EpochSeed(st.config.seed(), st.phase, st.epoch));
  if (st.phase == proto::PHASE_JOINT) plan.set_labels_epoch(st.labels.epoch());
  // The warm-up may iterate a set of its own (UDA: the labelled source); the other phases the training set.
  const int64_t rows = st.backends.SetFor(st.phase)->size();
  for (int64_t i = 0; i < rows; ++i) {
    if (st.phase != proto::PHASE_JOINT) {
      plan.add_indices(i);
    } else if (st.labels.labels(static_cast<int>(i)) >= 0) {  // reference §6: outliers sit the epoch out
      plan.add_indices(i);
      plan.add_labels(st.labels.labels(static_cast<int>(i)));
    }
  }
  if (BatchesInEpoch(plan) == 0) {
    Stop(self, proto::Phase_Name(st.phase) + " epoch " + std::to_string(st.epoch) + " has " +
                   std::to_string(plan.indices_size()) + " samples, fewer than one batch of " +
                   std::to_string(st.config.batch_size()));
    return;
  }
  // The trainer's plan is enqueued before the loader's: a loader worker sends the epoch's first batch to the
  // trainer as soon as it has the plan, and that batch must not reach the trainer before the epoch it belongs to
  // (mailboxes order messages per sender only; sending to the trainer first makes the order causal).
  self->request(st.trainer, caf::infinite, epoch_atom::value, Wrap(plan))
      .then([=](EpochSummaryMsg& summary) { EndEpoch(self, std::move(summary.value)); },
            [=](caf::error& error) {
              const std::string cause = DescribeError(error);
              RecordFailure(self, "trainer", cause, false);
              Stop(self, "trainer: " + cause);
            });
  self->send(st.loader, plan_atom::value, Wrap(std::move(plan)));
}

// Reference §5: at the start of stage 3 the memory is the eval-mode features of the train set, in order (and,
// with run.refresh_memory_each_epoch, again before every later clustering). The trainer makes its own copy of
// the memory from the same features; the bank actor gets them with the labels in use, and `then` runs.
void InitBank(CoordActor* self, std::function<void()> then) {
  auto& st = self->state;
  self->request(st.trainer, caf::infinite, extract_atom::value, std::string("train"))
      .then(
          [=](TensorMsg& features) {
            proto::BankSnapshot snapshot;
            snapshot.set_version(kActorProtocolVersion);
            *snapshot.mutable_features() = std::move(features.value);
            // A refresh keeps the labels in use (run.train_on_stale_labels may train another epoch with them).
            if (self->state.have_labels) *snapshot.mutable_labels() = self->state.labels.labels();
            if (snapshot.features().shape_size() != 2 || snapshot.features().shape(0) != self->state.num_samples) {
              Stop(self, "trainer: train features do not have one row per sample (" +
                             std::to_string(self->state.num_samples) + ")");
              return;
            }
            self->request(self->state.bank, self->state.timeout, init_atom::value, Wrap(std::move(snapshot)))
                .then(
                    [=] {
                      self->state.bank_ready = true;
                      then();
                    },
                    [=](caf::error& error) { Stop(self, "memory bank init: " + DescribeError(error)); });
          },
          [=](caf::error& error) { Stop(self, "trainer: train features: " + DescribeError(error)); });
}

void NextEpoch(CoordActor* self) {
  auto& st = self->state;
  if (st.finishing) return;
  Advance(st.config, &st.phase, &st.epoch);
  if (st.phase == proto::PHASE_DONE) {
    st.finishing = true;
    MaybeFinish(self);
    return;
  }
  if (st.phase != proto::PHASE_JOINT) {
    StartEpoch(self);
    return;
  }
  if (!st.bank_ready) {
    InitBank(self, [=] { NextEpoch(self); });
    return;
  }
  if (st.config.train_on_stale_labels() && st.have_labels) {
    StartEpoch(self);  // named option: the previous labels while the clusterer works
    return;
  }
  if (st.pending_ready) {
    ApplyPendingLabels(self);
    StartEpoch(self);
    return;
  }
  if (!st.clustering) RequestClustering(self);
  st.waiting_for_labels = true;
  st.wait_start = Clock::now();
}

// The epoch boundary's side work: evaluation and the checkpoint. Their requests to the trainer and the bank
// are sent now, before the next epoch's plan, so they see the state at this boundary; the replies are joined
// here while the next epoch already trains.
struct Boundary {
  int slot = 0;
  int waiting = 0;
  bool evaluate = false;
  bool checkpoint = false;
  proto::Tensor query, gallery;
  proto::Checkpoint trainer_part, bank_part;
  proto::Phase next_phase = proto::PHASE_UNSPECIFIED;
  int64_t next_epoch = 0;
  int64_t global_step = 0;
  bool failed = false;
};

void WriteBoundaryCheckpoint(CoordActor* self, std::shared_ptr<Boundary> b) {
  auto& st = self->state;
  proto::Checkpoint checkpoint = std::move(b->trainer_part);
  checkpoint.set_version(kCheckpointVersion);
  *checkpoint.mutable_config() = st.config;
  checkpoint.set_phase(b->next_phase);
  checkpoint.set_epoch(b->next_epoch);
  checkpoint.set_global_step(b->global_step);
  if (b->bank_part.has_memory_features()) {
    *checkpoint.mutable_memory_features() = std::move(*b->bank_part.mutable_memory_features());
    *checkpoint.mutable_pseudo_labels() = b->bank_part.pseudo_labels();
    for (const proto::RngState& rng : b->bank_part.rng()) *checkpoint.add_rng() = rng;
  }
  for (int i = 0; i <= b->slot && i < st.report.history_size(); ++i) *checkpoint.add_history() = st.report.history(i);
  const std::time_t now = std::time(nullptr);
  char utc[32];
  std::strftime(utc, sizeof utc, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  checkpoint.set_written_utc(utc);
  self->request(st.checkpointer, st.timeout, save_atom::value, Wrap(std::move(checkpoint)))
      .then(
          [=](const std::string& path) {
            self->state.report.set_last_checkpoint(path);
            --self->state.pending_tasks;
            MaybeFinish(self);
          },
          [=](caf::error& error) {
            --self->state.pending_tasks;
            RecordFailure(self, "checkpointer", DescribeError(error), false);
            Stop(self, "checkpointer: " + DescribeError(error));
          });
}

// One reply of the boundary arrived (or failed); when all are in, evaluate or write.
void BoundaryStep(CoordActor* self, std::shared_ptr<Boundary> b) {
  if (--b->waiting > 0) return;
  auto& st = self->state;
  if (b->failed) {
    --st.pending_tasks;
    MaybeFinish(self);
    return;
  }
  if (b->evaluate) {
    b->evaluate = false;
    ++b->waiting;
    self->request(st.evaluator, st.timeout, evaluate_atom::value, Wrap(std::move(b->query)),
                  Wrap(std::move(b->gallery)))
        .then(
            [=](EvalReportMsg& report) {
              report.value.set_phase(self->state.report.history(b->slot).phase());
              report.value.set_epoch(self->state.report.history(b->slot).epoch());
              *self->state.report.mutable_history(b->slot)->mutable_eval() = std::move(report.value);
              BoundaryStep(self, b);
            },
            [=](caf::error& error) {
              RecordFailure(self, "evaluator", DescribeError(error), true);  // the run goes on without metrics
              BoundaryStep(self, b);
            });
    return;
  }
  if (b->checkpoint) {
    WriteBoundaryCheckpoint(self, b);
    return;
  }
  --st.pending_tasks;
  MaybeFinish(self);
}

void StartBoundary(CoordActor* self, int slot, bool phase_end) {
  auto& st = self->state;
  auto b = std::make_shared<Boundary>();
  b->slot = slot;
  b->next_phase = st.phase;
  b->next_epoch = st.epoch;
  Advance(st.config, &b->next_phase, &b->next_epoch);
  // Reference §8: once before stage 3 (the baseline), whichever phase runs last before it (stage 2, or stage 1
  // when a run has no GAN warm-up, e.g. the contrast-only ablation rows), and after every joint epoch.
  b->evaluate = st.config.evaluate_each_epoch() && st.evaluator &&
                (st.phase == proto::PHASE_JOINT || (phase_end && b->next_phase == proto::PHASE_JOINT));
  b->checkpoint = phase_end || st.epoch % st.config.checkpoint_every_epochs() == 0;
  if (!b->evaluate && !b->checkpoint) return;
  b->global_step = st.global_step;
  ++st.pending_tasks;
  auto fail = [=](const std::string& what) {
    return [=](caf::error& error) {
      RecordFailure(self, what, DescribeError(error), false);
      b->failed = true;
      Stop(self, what + ": " + DescribeError(error));
      BoundaryStep(self, b);
    };
  };
  b->waiting = 1;  // released at the end of this function, after every request went out
  if (b->evaluate) {
    b->waiting += 2;
    self->request(st.trainer, st.timeout, extract_atom::value, std::string("query"))
        .then(
            [=](TensorMsg& t) {
              b->query = std::move(t.value);
              BoundaryStep(self, b);
            },
            fail("trainer (query features)"));
    self->request(st.trainer, st.timeout, extract_atom::value, std::string("gallery"))
        .then(
            [=](TensorMsg& t) {
              b->gallery = std::move(t.value);
              BoundaryStep(self, b);
            },
            fail("trainer (gallery features)"));
  }
  if (b->checkpoint) {
    ++b->waiting;
    self->request(st.trainer, st.timeout, save_atom::value)
        .then(
            [=](CheckpointMsg& part) {
              b->trainer_part = std::move(part.value);
              BoundaryStep(self, b);
            },
            fail("trainer (save)"));
    if (st.bank_ready) {
      ++b->waiting;
      self->request(st.bank, st.timeout, save_atom::value)
          .then(
              [=](CheckpointMsg& part) {
                b->bank_part = std::move(part.value);
                BoundaryStep(self, b);
              },
              fail("memory bank (save)"));
    }
  }
  BoundaryStep(self, b);
}

void EndEpoch(CoordActor* self, proto::EpochSummary summary) {
  auto& st = self->state;
  summary.set_version(kActorProtocolVersion);
  summary.set_seconds_waiting_for_labels(st.label_wait);
  st.label_wait = 0;
  if (st.phase == proto::PHASE_JOINT && st.have_labels) {
    summary.set_num_clusters(st.labels.num_clusters());
    summary.set_num_outliers(st.labels.num_outliers());
  }
  st.global_step += summary.steps();
  const int slot = st.report.history_size();
  *st.report.add_history() = summary;
  if (summary.skipped_files() > st.config.max_skipped_files_per_epoch()) {
    RecordFailure(self, "loader", std::to_string(summary.skipped_files()) + " unreadable files in one epoch", false);
    Stop(self, "loader: " + std::to_string(summary.skipped_files()) + " files skipped in " +
                   proto::Phase_Name(st.phase) + " epoch " + std::to_string(st.epoch) + ", more than " +
                   std::to_string(st.config.max_skipped_files_per_epoch()));
    return;
  }
  ++st.epoch;
  const bool phase_end = st.epoch >= EpochsOf(st.config, st.phase);
  if (st.phase == proto::PHASE_JOINT && !phase_end) {
    // The next epoch's labels: started now, beside evaluation and the checkpoint.
    if (st.config.train_on_stale_labels() && st.pending_ready) ApplyPendingLabels(self);
    if (!st.clustering) RequestClustering(self);
  }
  StartBoundary(self, slot, phase_end);
  NextEpoch(self);
}

void Restore(CoordActor* self) {
  auto& st = self->state;
  if (!st.resume) {
    NextEpoch(self);
    return;
  }
  self->request(st.checkpointer, st.timeout, load_atom::value)
      .then(
          [=](CheckpointMsg& msg, std::string& path, std::string& notes) {
            auto& s = self->state;
            // Newer checkpoints that did not read: the run goes on from an older one and the report says so.
            if (!notes.empty()) RecordFailure(self, "checkpointer", notes, true);
            const proto::Checkpoint& checkpoint = msg.value;
            s.phase = checkpoint.phase();
            s.epoch = checkpoint.epoch();
            s.global_step = checkpoint.global_step();
            *s.report.mutable_history() = checkpoint.history();
            if (s.phase == proto::PHASE_DONE && s.report.history_size() > 0) {
              // A finished run resumed with more epochs in its config (e.g. --set run.joint_epochs=8) continues
              // after its last epoch; with the same config NextEpoch advances straight back to done.
              const proto::EpochSummary& last = s.report.history(s.report.history_size() - 1);
              s.phase = last.phase();
              s.epoch = last.epoch() + 1;
            }
            s.bank_ready = checkpoint.has_memory_features();
            auto parts = std::make_shared<int>(s.bank_ready ? 2 : 1);
            auto done = [=] {
              if (--*parts > 0) return;
              auto& st2 = self->state;
              if (st2.finishing) return;  // the other part failed
              if (st2.backends.on_restored) {
                try {
                  st2.backends.on_restored();
                } catch (const std::exception& e) {
                  Stop(self, std::string("after the restore: ") + e.what());
                  return;
                }
              }
              st2.report.set_resumed_from(path);
              NextEpoch(self);
            };
            self->request(s.trainer, caf::infinite, restore_atom::value, msg)
                .then(done, [=](caf::error& e) { Stop(self, "trainer restore from " + path + ": " + DescribeError(e)); });
            if (s.bank_ready) {
              self->request(s.bank, s.timeout, restore_atom::value, msg)
                  .then(done,
                        [=](caf::error& e) { Stop(self, "memory bank restore from " + path + ": " + DescribeError(e)); });
            }
          },
          [=](caf::error& error) {
            if (IsError(error, gcl_errc::not_ready)) {
              // Never a silent fresh start: that would train from scratch over the run the user meant to continue.
              Stop(self, "resume: there is no checkpoint in " + self->state.checkpoint_dir);
              return;
            }
            Stop(self, "resume: " + DescribeError(error));
          });
}

caf::behavior Running(CoordActor* self) {
  return {
      [=](run_atom) -> caf::result<RunReportMsg> {
        return MakeJobError(gcl_errc::not_ready, "coordinator: the run is already under way");
      },
      [=](const FailureMsg& failure) {
        RecordFailure(self, failure.value.actor(), failure.value.cause(), failure.value.recoverable());
        if (!failure.value.recoverable()) Stop(self, failure.value.actor() + ": " + failure.value.cause());
      },
  };
}

caf::behavior Idle(CoordActor* self) {
  return {
      [=](run_atom) -> caf::result<RunReportMsg> {
        self->state.run_promise = self->make_response_promise();
        self->become(Running(self));
        if (!self->state.init_error.empty()) {
          RecordFailure(self, self->state.init_error_actor, self->state.init_error, false);
          Stop(self, self->state.init_error_actor + ": " + self->state.init_error);
        } else {
          Restore(self);
        }
        return self->state.run_promise;
      },
  };
}

caf::behavior Coordinator(CoordActor* self, proto::RunConfig config, JobBackends backends,
                          std::string checkpoint_dir, bool resume) {
  auto& st = self->state;
  st.config = std::move(config);
  st.backends = std::move(backends);
  st.checkpoint_dir = std::move(checkpoint_dir);
  st.resume = resume;
  st.timeout = std::chrono::seconds(st.config.request_timeout_s());
  st.num_samples = st.backends.train_set->size();
  caf::actor_system& sys = self->system();
  std::unique_ptr<BankBackend> bank_backend;
  std::unique_ptr<TrainerBackend> trainer_backend;
  try {
    st.init_error_actor = "memory bank";
    bank_backend = st.backends.make_bank();
    st.init_error_actor = "trainer";
    trainer_backend = st.backends.make_trainer();
  } catch (const std::exception& e) {
    st.init_error = std::string("cannot start: ") + e.what();
    return Idle(self);
  }
  st.loader = SpawnLoaderPool(sys, st.backends.train_set, st.config.loader_workers(), st.backends.warmup_set);
  st.bank = SpawnMemoryBank(sys, std::move(bank_backend), st.config.momentum());
  st.trainer = SpawnTrainer(sys, std::move(trainer_backend), st.loader, st.bank, st.num_samples,
                            st.config.prefetch_batches(), st.config.num_negatives(),
                            st.backends.warmup_set ? st.backends.warmup_set->size() : 0);
  st.clusterer = SpawnClusterer(sys, st.backends.cluster, st.config);
  if (st.backends.evaluate) st.evaluator = SpawnEvaluator(sys, st.backends.evaluate);
  st.checkpointer = SpawnCheckpointer(sys, st.checkpoint_dir, st.config.keep_checkpoints());
  // Supervision: the clusterer is restarted on demand; any other child going down ends the run cleanly.
  for (const caf::actor& child : {st.loader, st.bank, st.trainer, st.evaluator, st.checkpointer}) {
    if (child) self->monitor(child);
  }
  self->set_down_handler([=](caf::down_msg& down) {
    auto& s = self->state;
    std::string who = "an actor";
    if (down.source == s.loader.address()) who = "loader";
    if (down.source == s.trainer.address()) who = "trainer";
    if (down.source == s.bank.address()) who = "memory bank";
    if (down.source == s.evaluator.address()) who = "evaluator";
    if (down.source == s.checkpointer.address()) who = "checkpointer";
    RecordFailure(self, who, "went down: " + caf::to_string(down.reason), false);
    Stop(self, who + " went down: " + caf::to_string(down.reason));
  });
  return Idle(self);
}

}  // namespace

uint64_t EpochSeed(uint64_t run_seed, proto::Phase phase, int64_t epoch) {
  return SampleSeed(run_seed ^ (static_cast<uint64_t>(phase) << 56), epoch);
}

caf::actor SpawnCoordinator(caf::actor_system& system, const proto::RunConfig& config, JobBackends backends,
                            const std::string& checkpoint_dir, bool resume) {
  return system.spawn(Coordinator, config, std::move(backends), checkpoint_dir, resume);
}

}  // namespace gcl::actors

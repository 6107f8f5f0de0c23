#include "actors/loader.h"

#include <caf/all.hpp>

#include <algorithm>
#include <exception>
#include <map>
#include <random>
#include <string>
#include <utility>

#include "actors/protocol.h"
#include "actors/validate.h"
#include "common/splitmix64.h"

namespace gcl::actors {
namespace {

// One worker: turns a one-batch plan (the batch's indices and labels) into a Batch.
struct LoaderWorkerState {
  std::shared_ptr<SampleSource> source;
  std::shared_ptr<SampleSource> warmup_source;  // may be empty
  const char* name = "loader_worker";
};

// The source a plan of `phase` indexes (see SpawnLoaderPool).
SampleSource& SourceFor(proto::Phase phase, const std::shared_ptr<SampleSource>& source,
                        const std::shared_ptr<SampleSource>& warmup_source) {
  return *JobBackends::SetForPhase(phase, source, warmup_source);
}

caf::result<BatchMsg> BuildBatch(SampleSource& source, const proto::EpochPlan& job, int64_t batch_number) {
  const ImageSize size = source.image_size();
  const int64_t plane = size.height * size.width;
  const bool structure = source.has_structure() && job.phase() != proto::PHASE_WARMUP;
  const int64_t capacity = job.indices_size();
  std::string images(static_cast<size_t>(capacity * 3 * plane) * sizeof(float), '\0');
  std::string ori, fresh;
  if (structure) {
    ori.assign(static_cast<size_t>(capacity * plane) * sizeof(float), '\0');
    fresh.assign(ori.size(), '\0');
  }
  proto::Batch batch;
  batch.set_version(kActorProtocolVersion);
  batch.set_phase(job.phase());
  batch.set_epoch(job.epoch());
  batch.set_batch(batch_number);
  batch.set_labels_epoch(job.labels_epoch());
  std::string first_error;
  int64_t kept = 0;
  for (int i = 0; i < job.indices_size(); ++i) {
    const int64_t index = job.indices(i);
    float* image = reinterpret_cast<float*>(images.data()) + kept * 3 * plane;
    float* s_ori = structure ? reinterpret_cast<float*>(ori.data()) + kept * plane : nullptr;
    float* s_new = structure ? reinterpret_cast<float*>(fresh.data()) + kept * plane : nullptr;
    try {
      source.Load(index, SampleSeed(job.seed(), index), job.phase(), image, s_ori, s_new);
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = e.what();
      batch.set_skipped_files(batch.skipped_files() + 1);
      continue;
    } catch (...) {
      if (first_error.empty()) first_error = "sample " + std::to_string(index) + ": a non-standard exception";
      batch.set_skipped_files(batch.skipped_files() + 1);
      continue;
    }
    batch.add_indices(index);
    if (job.labels_size() > 0) batch.add_labels(job.labels(i));
    ++kept;
  }
  if (kept == 0) {
    return MakeJobError(gcl_errc::io_failed, "loader: no sample of batch " + std::to_string(batch_number) +
                                                 " could be read; first error: " + first_error);
  }
  auto fill = [&](proto::Tensor* t, std::string* data, int64_t channels) {
    t->set_dtype(proto::DTYPE_FLOAT32);
    for (int64_t d : {kept, channels, size.height, size.width}) t->add_shape(d);
    data->resize(static_cast<size_t>(kept * channels * plane) * sizeof(float));
    t->set_data(std::move(*data));
  };
  fill(batch.mutable_images(), &images, 3);
  if (structure) {
    fill(batch.mutable_structure_ori(), &ori, 1);
    fill(batch.mutable_structure_new(), &fresh, 1);
  }
  return Wrap(std::move(batch));
}

caf::behavior LoaderWorker(caf::stateful_actor<LoaderWorkerState>* self, std::shared_ptr<SampleSource> source,
                           std::shared_ptr<SampleSource> warmup_source) {
  self->state.source = std::move(source);
  self->state.warmup_source = std::move(warmup_source);
  return {
      [=](plan_atom, const EpochPlanMsg& job, int64_t batch_number) -> caf::result<BatchMsg> {
        return BuildBatch(SourceFor(job.value.phase(), self->state.source, self->state.warmup_source), job.value,
                          batch_number);
      },
  };
}

struct LoaderPoolState {
  std::shared_ptr<SampleSource> source;
  std::shared_ptr<SampleSource> warmup_source;  // may be empty
  std::vector<caf::actor> workers;
  size_t next_worker = 0;
  // The current epoch.
  bool has_plan = false;
  proto::EpochPlan plan;
  std::vector<int64_t> order;
  int64_t num_batches = 0;
  int64_t next_to_build = 0;
  int64_t next_to_send = 0;
  std::map<int64_t, proto::Batch> ready;  // built, waiting for their turn
  int64_t building = 0;
  caf::actor supervisor;                  // the plan's sender, told about failures
  // Back-pressure: the consumer and how many batches it still accepts.
  caf::actor sink;
  int64_t credits = 0;
  // Statistics.
  int64_t sent = 0;
  int64_t skipped = 0;
  int64_t max_held = 0;
  const char* name = "loader_pool";
};

using PoolActor = caf::stateful_actor<LoaderPoolState>;

void ReportFailure(PoolActor* self, const std::string& cause) {
  proto::Failure failure;
  failure.set_actor("loader");
  failure.set_cause(cause);
  failure.set_phase(self->state.plan.phase());
  failure.set_epoch(self->state.plan.epoch());
  failure.set_recoverable(false);
  if (self->state.supervisor) self->send(self->state.supervisor, Versioned(std::move(failure)));
}

// Sends what is ready in order, then starts building as many batches as the remaining credit allows.
void Pump(PoolActor* self) {
  auto& st = self->state;
  while (st.credits > 0 && st.sink) {
    auto it = st.ready.find(st.next_to_send);
    if (it == st.ready.end()) break;
    self->send(st.sink, Wrap(std::move(it->second)));
    st.ready.erase(it);
    ++st.next_to_send;
    --st.credits;
    ++st.sent;
  }
  if (!st.has_plan) return;
  while (st.next_to_build < st.num_batches &&
         st.building + static_cast<int64_t>(st.ready.size()) < st.credits) {
    const int64_t number = st.next_to_build++;
    proto::EpochPlan job;
    job.set_version(kActorProtocolVersion);
    job.set_phase(st.plan.phase());
    job.set_epoch(st.plan.epoch());
    job.set_seed(st.plan.seed());
    job.set_batch_size(st.plan.batch_size());
    job.set_labels_epoch(st.plan.labels_epoch());
    for (int64_t k = number * st.plan.batch_size(); k < (number + 1) * st.plan.batch_size(); ++k) {
      const int64_t position = st.order[static_cast<size_t>(k)];
      job.add_indices(st.plan.indices(static_cast<int>(position)));
      if (st.plan.labels_size() > 0) job.add_labels(st.plan.labels(static_cast<int>(position)));
    }
    caf::actor worker = st.workers[st.next_worker++ % st.workers.size()];
    ++st.building;
    st.max_held = std::max(st.max_held, st.building + static_cast<int64_t>(st.ready.size()));
    const int64_t epoch = st.plan.epoch();
    const proto::Phase phase = st.plan.phase();
    self->request(worker, caf::infinite, plan_atom::value, Wrap(std::move(job)), number)
        .then(
            [=](BatchMsg& batch) {
              auto& s = self->state;
              if (!s.has_plan || s.plan.epoch() != epoch || s.plan.phase() != phase) return;  // old epoch
              --s.building;
              s.skipped += batch.value.skipped_files();
              s.ready.emplace(number, std::move(batch.value));
              Pump(self);
            },
            [=](caf::error& error) {
              auto& s = self->state;
              if (!s.has_plan || s.plan.epoch() != epoch || s.plan.phase() != phase) return;
              --s.building;
              ReportFailure(self, DescribeError(error));
            });
  }
}

caf::behavior LoaderPool(PoolActor* self, std::shared_ptr<SampleSource> source, int workers,
                         std::shared_ptr<SampleSource> warmup_source) {
  self->state.source = source;
  self->state.warmup_source = warmup_source;
  for (int i = 0; i < std::max(1, workers); ++i) {
    self->state.workers.push_back(self->spawn<caf::detached + caf::linked>(LoaderWorker, source, warmup_source));
  }
  return {
      [=](plan_atom, const EpochPlanMsg& msg) -> caf::result<void> {
        const int64_t size = SourceFor(msg.value.phase(), self->state.source, self->state.warmup_source).size();
        if (std::string problem = ValidateEpochPlan(msg.value, size); !problem.empty()) {
          return MakeProtocolError(problem);
        }
        auto& st = self->state;
        st.supervisor = caf::actor_cast<caf::actor>(self->current_sender());
        st.plan = msg.value;
        st.has_plan = true;
        st.order = EpochOrder(st.plan);
        st.num_batches = BatchesInEpoch(st.plan);
        st.next_to_build = 0;
        st.next_to_send = 0;
        st.ready.clear();
        st.building = 0;
        Pump(self);
        return caf::unit;
      },
      [=](const CreditMsg& msg) -> caf::result<void> {
        if (std::string problem = ValidateCredit(msg.value); !problem.empty()) return MakeProtocolError(problem);
        auto& st = self->state;
        caf::actor sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (sender != st.sink) {
          st.sink = sender;
          st.credits = 0;
        }
        st.credits += msg.value.credits();
        Pump(self);
        return caf::unit;
      },
      [=](stats_atom) {
        return std::vector<int64_t>{self->state.sent, self->state.skipped, self->state.max_held};
      },
  };
}

}  // namespace

std::vector<int64_t> EpochOrder(const proto::EpochPlan& plan) {
  std::vector<int64_t> order(static_cast<size_t>(plan.indices_size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::mt19937_64 rng(plan.seed());
  for (size_t i = order.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

int64_t BatchesInEpoch(const proto::EpochPlan& plan) {
  return plan.batch_size() > 0 ? plan.indices_size() / plan.batch_size() : 0;
}

uint64_t SampleSeed(uint64_t epoch_seed, int64_t index) {
  // Output `index` of the SplitMix64 stream seeded with the epoch's seed: nearby indices get unrelated seeds.
  return SplitMix64(epoch_seed + kSplitMix64Increment * static_cast<uint64_t>(index));
}

caf::actor SpawnLoaderPool(caf::actor_system& system, std::shared_ptr<SampleSource> source, int workers,
                           std::shared_ptr<SampleSource> warmup_source) {
  return system.spawn(LoaderPool, std::move(source), workers, std::move(warmup_source));
}

}  // namespace gcl::actors

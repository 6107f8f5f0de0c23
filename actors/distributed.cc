#include "actors/distributed.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <deque>
#include <exception>
#include <map>
#include <stdexcept>
#include <utility>

#include "actors/protocol.h"
#include "actors/run_config.h"
#include "actors/validate.h"

namespace gcl::actors {
namespace {

struct Remote {
  std::string name;  // "host:port"
  caf::actor handle;
};

struct DispatcherState {
  proto::ClusterConfig config;
  std::vector<Remote> workers;                 // still alive
  std::deque<proto::JobSpec> queue;
  std::map<std::string, proto::JobSpec> busy;  // worker name -> job it runs
  proto::JobReport report;
  caf::response_promise promise;
  const char* name = "job_dispatcher";
};

using Dispatcher = caf::stateful_actor<DispatcherState>;

void Dispatch(Dispatcher* self);

void MaybeDone(Dispatcher* self) {
  auto& st = self->state;
  if (!st.busy.empty()) return;
  if (!st.queue.empty() && !st.workers.empty()) return;
  for (const proto::JobSpec& job : st.queue) {  // no worker left; a queued job has not made its current try
    st.report.add_lost_jobs(job.job_id());
    (*st.report.mutable_lost_job_tries())[job.job_id()] = job.attempt() - 1;
  }
  st.queue.clear();
  st.report.set_version(kActorProtocolVersion);
  if (st.promise.pending()) st.promise.deliver(Wrap(st.report));
  self->quit();
}

// The worker `name` is gone: forget it and re-queue (or lose) its job.
void LoseWorker(Dispatcher* self, const std::string& name, const std::string& cause) {
  auto& st = self->state;
  bool known = false;
  for (auto it = st.workers.begin(); it != st.workers.end(); ++it) {
    if (it->name == name) {
      self->demonitor(it->handle);
      st.workers.erase(it);
      known = true;
      break;
    }
  }
  if (known) st.report.add_lost_workers(name + " (" + cause + ")");
  auto job = st.busy.find(name);
  if (job != st.busy.end()) {
    proto::JobSpec spec = std::move(job->second);
    st.busy.erase(job);
    if (spec.attempt() < st.config.max_attempts()) {
      spec.set_attempt(spec.attempt() + 1);
      st.queue.push_front(std::move(spec));
    } else {
      st.report.add_lost_jobs(spec.job_id());
      (*st.report.mutable_lost_job_tries())[spec.job_id()] = spec.attempt();
    }
  }
  Dispatch(self);
  MaybeDone(self);
}

void Dispatch(Dispatcher* self) {
  auto& st = self->state;
  for (const Remote& worker : st.workers) {
    if (st.queue.empty()) break;
    if (st.busy.count(worker.name)) continue;
    proto::JobSpec job = std::move(st.queue.front());
    st.queue.pop_front();
    st.busy[worker.name] = job;
    const std::string name = worker.name;
    self->request(worker.handle, std::chrono::seconds(st.config.job_timeout_s()), job_atom::value, Wrap(job))
        .then(
            [=](JobResultMsg& result) {
              auto& s = self->state;
              s.busy.erase(name);
              result.value.set_worker(name);  // as the coordinator dialled it
              if (std::string p = ValidateJobResult(result.value); !p.empty()) {
                result.value.set_ok(false);
                result.value.set_error("malformed result: " + p);
              }
              *s.report.add_results() = std::move(result.value);
              Dispatch(self);
              MaybeDone(self);
            },
            [=](caf::error& error) {
              // The worker answered with an error (a malformed spec), timed out, or went away: in every case this
              // worker is not to be trusted with more work.
              LoseWorker(self, name, DescribeError(error));
            });
  }
}

caf::behavior JobDispatcher(Dispatcher* self, proto::ClusterConfig config, std::vector<Remote> workers) {
  self->state.config = std::move(config);
  self->state.workers = std::move(workers);
  for (const Remote& w : self->state.workers) self->monitor(w.handle);
  self->set_down_handler([=](caf::down_msg& down) {
    for (const Remote& w : self->state.workers) {
      if (w.handle.address() == down.source) {
        LoseWorker(self, w.name, "down: " + caf::to_string(down.reason));
        return;
      }
    }
  });
  return {
      [=](run_atom, const JobListMsg& jobs) -> caf::result<JobReportMsg> {
        auto& st = self->state;
        for (const proto::JobSpec& job : jobs.value.jobs()) {
          if (std::string p = ValidateJobSpec(job); !p.empty()) return MakeProtocolError(p);
          st.queue.push_back(job);
        }
        st.promise = self->make_response_promise();
        Dispatch(self);
        MaybeDone(self);
        return st.promise;
      },
  };
}

}  // namespace

caf::behavior WorkerBehavior(JobRegistry registry) {
  return {
      [registry](job_atom, const JobSpecMsg& msg) -> caf::result<JobResultMsg> {
        if (std::string p = ValidateJobSpec(msg.value); !p.empty()) return MakeProtocolError(p);
        proto::JobResult result;
        result.set_job_id(msg.value.job_id());
        result.set_kind(msg.value.kind());
        result.set_attempt(msg.value.attempt());
        const auto start = std::chrono::steady_clock::now();
        auto fn = registry.find(msg.value.kind());
        if (fn == registry.end()) {
          result.set_ok(false);
          result.set_error("this worker has no job kind '" + msg.value.kind() + "'");
        } else {
          try {
            result.set_payload(fn->second(msg.value.payload()));
            result.set_ok(true);
          } catch (const std::exception& e) {
            result.set_ok(false);
            result.set_error(std::string(e.what()).empty() ? "job threw" : e.what());
          }
        }
        result.set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        return Versioned(std::move(result));
      },
  };
}

uint16_t PublishWorker(caf::actor_system& system, JobRegistry registry, uint16_t port,
                       const std::string& bind_address) {
  caf::actor worker = system.spawn<caf::detached>(WorkerBehavior, std::move(registry));
  caf::expected<uint16_t> bound = system.middleman().publish(worker, port, bind_address.c_str());
  if (!bound) {
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot publish the worker on " + bind_address + ":" + std::to_string(port) + ": " +
                             system.render(bound.error()));
  }
  return *bound;
}

proto::JobReport RunJobs(caf::actor_system& system, const proto::ClusterConfig& config,
                         const std::vector<proto::JobSpec>& jobs) {
  std::vector<Remote> workers;
  proto::JobReport unreachable;
  for (const std::string& address : config.workers()) {
    const auto [host, port] = ParseHostPort("ClusterConfig.workers", address);
    caf::expected<caf::actor> handle = system.middleman().remote_actor(host, port);
    if (handle) {
      workers.push_back({address, *handle});
    } else {
      unreachable.add_lost_workers(address + " (unreachable: " + system.render(handle.error()) + ")");
    }
  }
  caf::actor dispatcher = system.spawn(JobDispatcher, config, workers);
  proto::JobList list;
  list.set_version(kActorProtocolVersion);
  for (const proto::JobSpec& job : jobs) *list.add_jobs() = job;
  proto::JobReport report;
  caf::scoped_actor self{system};
  self->request(dispatcher, caf::infinite, run_atom::value, Wrap(std::move(list)))
      .receive([&](JobReportMsg& r) { report = std::move(r.value); },
               [&](caf::error& e) { throw std::runtime_error("job dispatcher: " + DescribeError(e)); });
  for (const std::string& lost : unreachable.lost_workers()) report.add_lost_workers(lost);
  return report;
}

}  // namespace gcl::actors

#include "actors/distributed.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
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
  std::shared_ptr<const NodeSecret> secret;
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
    (*st.report.mutable_lost_job_causes())[spec.job_id()] = name + " " + cause;
  }
  Dispatch(self);
  MaybeDone(self);
}

// Why a request to a worker failed, in the words of this protocol (CAF's own codes mean nothing to a user).
std::string DescribeWorkerError(const caf::error& error, const proto::ClusterConfig& config) {
  if (error == caf::sec::request_timeout) {
    return "gave no answer within --job_timeout_s=" + std::to_string(config.job_timeout_s()) +
           " s (a hung job, or one that needs a longer timeout)";
  }
  if (IsError(error, gcl_errc::unauthorized)) {
    return "refused the job's authentication (" + DescribeError(error) +
           "): the worker and the coordinator do not share one secret";
  }
  if (error == caf::sec::request_receiver_down || error == caf::exit_reason::remote_link_unreachable) {
    return "went away (" + DescribeError(error) + ")";
  }
  return "answered with an error: " + DescribeError(error);
}

// Sends `job` to `worker` once the worker's nonce is in: the handshake of actors/node_auth.h.
void SendAuthenticated(Dispatcher* self, const Remote& worker, proto::JobSpec job) {
  const std::string name = worker.name;
  const caf::actor handle = worker.handle;
  const std::chrono::seconds timeout(self->state.config.job_timeout_s());
  self->request(handle, timeout, hello_atom::value)
      .then(
          [=](std::string& nonce) {
            auto& st = self->state;
            proto::JobSpec signed_job = job;
            signed_job.set_worker_nonce(nonce);
            signed_job.set_coordinator_nonce(RandomNonce());
            signed_job.set_auth_mac(st.secret->Mac(JobAuthText(nonce, signed_job)));
            const std::string coordinator_nonce = signed_job.coordinator_nonce();
            self->request(handle, timeout, job_atom::value, Wrap(std::move(signed_job)))
                .then(
                    [=](JobResultMsg& result) {
                      auto& s = self->state;
                      if (!s.secret->Verify(ResultAuthText(coordinator_nonce, result.value), result.value.auth_mac())) {
                        LoseWorker(self, name, "answered with a result whose authentication code does not match");
                        return;
                      }
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
                      // The worker refused the job (a malformed spec, our authentication), timed out, or went
                      // away: in every case this worker is not to be trusted with more work.
                      LoseWorker(self, name, DescribeWorkerError(error, self->state.config));
                    });
          },
          [=](caf::error& error) { LoseWorker(self, name, DescribeWorkerError(error, self->state.config)); });
}

void Dispatch(Dispatcher* self) {
  auto& st = self->state;
  for (const Remote& worker : st.workers) {
    if (st.queue.empty()) break;
    if (st.busy.count(worker.name)) continue;
    proto::JobSpec job = std::move(st.queue.front());
    st.queue.pop_front();
    st.busy[worker.name] = job;
    SendAuthenticated(self, worker, std::move(job));
  }
}

caf::behavior JobDispatcher(Dispatcher* self, proto::ClusterConfig config, std::vector<Remote> workers,
                           std::shared_ptr<const NodeSecret> secret) {
  self->state.config = std::move(config);
  self->state.secret = std::move(secret);
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
        std::set<std::string> ids;
        for (const proto::JobSpec& job : jobs.value.jobs()) {
          std::string problem = ValidateJobSpec(job);
          if (problem.empty() && !ids.insert(job.job_id()).second) {
            problem = "JobList: job id '" + job.job_id() + "' twice; results could not be told apart";
          }
          if (!problem.empty()) {
            self->quit();  // nothing was handed out; the dispatcher must not outlive the refused request
            return MakeProtocolError(problem);
          }
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

namespace {

// Nonces handed out and not used yet; past this many the oldest are forgotten (a peer asking for nonces without
// ever sending a job cannot grow the worker).
constexpr size_t kMaxOutstandingNonces = 64;

struct WorkerState {
  std::deque<std::string> nonces;
  const char* name = "job_worker";
};

using WorkerActor = caf::stateful_actor<WorkerState>;

// Runs `fn` on a thread of its own and waits at most `limit_s` (<= 0: no limit). Returns false when the job
// overran; its thread is then left running, and the caller ends the process.
bool RunWithWatchdog(const JobFn& fn, const std::string& payload, double limit_s, proto::JobResult* result) {
  std::packaged_task<std::string()> task([fn, payload] { return fn(payload); });
  std::future<std::string> done = task.get_future();
  std::thread runner(std::move(task));
  if (limit_s > 0 && done.wait_for(std::chrono::duration<double>(limit_s)) != std::future_status::ready) {
    runner.detach();
    return false;
  }
  runner.join();
  try {
    result->set_payload(done.get());
    result->set_ok(true);
  } catch (const std::exception& e) {
    result->set_ok(false);
    result->set_error(std::string(e.what()).empty() ? "job threw" : e.what());
  }
  return true;
}

caf::behavior Worker(WorkerActor* self, JobRegistry registry, std::shared_ptr<const WorkerOptions> options) {
  return {
      [=](hello_atom) -> std::string {
        auto& nonces = self->state.nonces;
        nonces.push_back(RandomNonce());
        if (nonces.size() > kMaxOutstandingNonces) nonces.pop_front();
        return nonces.back();
      },
      [=](job_atom, const JobSpecMsg& msg) -> caf::result<JobResultMsg> {
        const proto::JobSpec& spec = msg.value;
        if (std::string p = ValidateJobSpec(spec); !p.empty()) return MakeProtocolError(p);
        // Authentication before anything of the job is looked at: a nonce of ours, used once, and the code.
        auto& nonces = self->state.nonces;
        const auto nonce = std::find(nonces.begin(), nonces.end(), spec.worker_nonce());
        std::string refusal;
        if (nonce == nonces.end()) {
          refusal = "no valid nonce (ask with hello first; each nonce works once)";
        } else {
          nonces.erase(nonce);
          if (!options->secret.Verify(JobAuthText(spec.worker_nonce(), spec), spec.auth_mac())) {
            refusal = "its authentication code does not match this worker's secret";
          }
        }
        if (!refusal.empty()) {
          std::fprintf(stderr, "node worker: refused job '%s': %s\n", spec.job_id().c_str(), refusal.c_str());
          return MakeJobError(gcl_errc::unauthorized, "job '" + spec.job_id() + "': " + refusal);
        }
        proto::JobResult result;
        result.set_job_id(spec.job_id());
        result.set_kind(spec.kind());
        result.set_attempt(spec.attempt());
        const auto start = std::chrono::steady_clock::now();
        auto fn = registry.find(spec.kind());
        if (fn == registry.end()) {
          result.set_ok(false);
          result.set_error("this worker has no job kind '" + spec.kind() + "'");
        } else if (!RunWithWatchdog(fn->second, spec.payload(), options->job_limit_s, &result)) {
          const std::string limit = std::to_string(static_cast<long long>(options->job_limit_s));
          result.set_ok(false);
          result.set_error("ran longer than this worker's --job_limit_s=" + limit +
                           " s; the worker process ends to stop it");
          std::fprintf(stderr, "node worker: job '%s' ran longer than --job_limit_s=%s s; ending this process\n",
                       spec.job_id().c_str(), limit.c_str());
          // The answer goes out first (the middleman sends it on its own thread), then the process ends.
          std::thread([] {
            std::this_thread::sleep_for(std::chrono::seconds(2));
            std::_Exit(3);
          }).detach();
        }
        result.set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        result.set_version(kActorProtocolVersion);
        result.set_auth_mac(options->secret.Mac(ResultAuthText(spec.coordinator_nonce(), result)));
        return Wrap(std::move(result));
      },
  };
}

}  // namespace

uint16_t PublishWorker(caf::actor_system& system, JobRegistry registry, uint16_t port,
                       const std::string& bind_address, WorkerOptions options) {
  caf::actor worker = system.spawn<caf::detached>(Worker, std::move(registry),
                                                  std::make_shared<const WorkerOptions>(std::move(options)));
  caf::expected<uint16_t> bound = system.middleman().publish(worker, port, bind_address.c_str());
  if (!bound) {
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot publish the worker on " + bind_address + ":" + std::to_string(port) + ": " +
                             system.render(bound.error()));
  }
  return *bound;
}

proto::JobReport RunJobs(caf::actor_system& system, const proto::ClusterConfig& config,
                         const std::vector<proto::JobSpec>& jobs, const NodeSecret& secret) {
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
  caf::actor dispatcher =
      system.spawn(JobDispatcher, config, workers, std::make_shared<const NodeSecret>(secret));
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

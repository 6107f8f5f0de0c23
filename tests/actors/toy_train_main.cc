// A whole training job with the toy backends (fake_backends.h) as a process, for kill_resume_test: warm-up 1,
// GAN warm-up 2 and joint 2 epochs of 4 steps over 16 samples. Prints "step <n>" as each step begins, so a test
// can SIGKILL it in the middle of an epoch, and exits 0 when the run completed.
//
//   toy_train --dir=/tmp/run [--resume] [--step_delay_ms=20]
#include <caf/all.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "actors/coordinator.h"
#include "actors/protocol.h"
#include "actors/run_config.h"
#include "tests/actors/fake_backends.h"

int main(int argc, char** argv) {
  std::string dir;
  bool resume = false;
  int delay_ms = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--dir=", 6) == 0) {
      dir = argv[i] + 6;
    } else if (std::strcmp(argv[i], "--resume") == 0) {
      resume = true;
    } else if (std::strncmp(argv[i], "--step_delay_ms=", 16) == 0) {
      delay_ms = std::atoi(argv[i] + 16);
    } else {
      std::fprintf(stderr, "toy_train: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "toy_train: --dir is required\n");
    return 2;
  }
  using namespace gcl::actors;
  gcl::proto::RunConfig c;
  c.set_seed(7);
  c.set_warmup_epochs(1);
  c.set_gan_warmup_epochs(2);
  c.set_joint_epochs(2);
  c.set_batch_size(4);
  c.set_prefetch_batches(2);
  c.set_num_negatives(2);
  c.set_evaluate_each_epoch(false);
  c = ResolveRunConfig(c);
  auto source = std::make_shared<testing::ToySource>(16);
  JobBackends backends;
  backends.train_set = source;
  backends.make_trainer = [source, delay_ms] {
    auto trainer = std::make_unique<testing::ToyTrainer>(source);
    trainer->on_step = [delay_ms](int64_t step) {
      std::printf("step %lld\n", static_cast<long long>(step));
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    };
    return trainer;
  };
  backends.make_bank = [] { return std::make_unique<testing::ToyBank>(11); };
  backends.cluster = testing::ToyCluster{};
  caf::actor_system_config cfg;
  AddProtocolTypes(cfg);
  caf::actor_system system{cfg};
  caf::actor job = SpawnCoordinator(system, c, backends, dir, resume);
  caf::scoped_actor self{system};
  int status = 1;
  self->request(job, caf::infinite, run_atom::value)
      .receive(
          [&](RunReportMsg& report) {
            if (report.value.completed()) {
              status = 0;
            } else {
              std::fprintf(stderr, "toy_train: stopped: %s\n", report.value.error().c_str());
            }
          },
          [&](caf::error& e) { std::fprintf(stderr, "toy_train: %s\n", DescribeError(e).c_str()); });
  return status;
}

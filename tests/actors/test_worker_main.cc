// A worker node for the distributed tests: publishes a job worker on 127.0.0.1 and prints "port <N>" once it
// listens. Its one job kind, "toy_cluster", labels a BankSnapshot with ToyCluster (fake_backends.h) after
// --delay_ms milliseconds and prints "started <rows>" when a job begins, so a test can kill it mid-job. The secret
// comes from $GCL_NODE_SECRET; --job_limit_s is the watchdog's limit (default: none).
//
//   test_worker --delay_ms=2000 [--job_limit_s=1]
#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "actors/distributed.h"
#include "actors/protocol.h"
#include "tests/actors/fake_backends.h"

int main(int argc, char** argv) {
  int delay_ms = 0;
  double job_limit_s = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--delay_ms=", 11) == 0) {
      delay_ms = std::atoi(argv[i] + 11);
    } else if (std::strncmp(argv[i], "--job_limit_s=", 14) == 0) {
      job_limit_s = std::atof(argv[i] + 14);
    } else {
      std::fprintf(stderr, "test_worker: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  caf::actor_system_config cfg;
  gcl::actors::AddProtocolTypes(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system system{cfg};
  gcl::actors::JobRegistry registry;
  registry["toy_cluster"] = [delay_ms](const std::string& payload) {
    gcl::proto::BankSnapshot bank;
    if (!bank.ParseFromString(payload)) throw std::runtime_error("toy_cluster: payload is not a BankSnapshot");
    std::printf("started %lld\n", static_cast<long long>(bank.features().shape(0)));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    return gcl::actors::testing::ToyCluster{}(bank, gcl::proto::RunConfig{}).SerializeAsString();
  };
  const uint16_t port = gcl::actors::PublishWorker(system, registry, 0, "127.0.0.1",
                                                   {gcl::actors::NodeSecret::FromEnvironment(), job_limit_s});
  std::printf("port %u\n", static_cast<unsigned>(port));
  std::fflush(stdout);
  // Serves until killed.
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

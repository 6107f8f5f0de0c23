// A training checkpoint (proto/checkpoint.proto) as `--resume` reads it: parsed, validated (actors/validate.h),
// then every tensor decoded (proto/tensor_codec.h), fed seeded random mutations of a real serialized checkpoint.
// Every mutant is read within 10 s and a 512 MB memory budget (issue 18) and either reads or is refused with a
// std::exception naming the problem.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "actors/run_config.h"
#include "actors/validate.h"
#include "proto/checkpoint.pb.h"
#include "proto/tensor_codec.h"
#include "tests/support/child_process.h"
#include "tests/support/hostile_input.h"

namespace gcl::actors {
namespace {

using testing_support::FuzzFile;
using testing_support::FuzzOptions;
using testing_support::FuzzReport;
using testing_support::TestTmpDir;

// What a toy run's checkpoint holds: networks as state dicts, optimizer and random-stream states, a bank with
// pseudo labels, a resolved config and an epoch of history.
std::string SampleCheckpoint() {
  torch::manual_seed(3);
  proto::Checkpoint c;
  c.set_version(kCheckpointVersion);
  proto::RunConfig run;
  run.set_joint_epochs(2);
  *c.mutable_config() = ResolveRunConfig(run);
  c.set_phase(proto::PHASE_JOINT);
  c.set_epoch(1);
  c.set_global_step(40);
  for (const std::string name : {"E_id", "G"}) {
    proto::ModuleState* module = c.add_networks();
    module->set_name(name);
    for (const auto& [key, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
             {"conv1.weight", {4, 3, 3, 3}}, {"bn1.running_var", {4}}, {"fc.bias", {8}}}) {
      proto::NamedTensor* t = module->add_tensors();
      t->set_name(key);
      proto::EncodeTensor(torch::randn(shape), t->mutable_tensor());
    }
    proto::NamedTensor* steps = module->add_tensors();
    steps->set_name("bn1.num_batches_tracked");
    proto::EncodeTensor(torch::tensor(int64_t{40}), steps->mutable_tensor());
  }
  proto::OptimizerState* adam = c.add_optimizers();
  adam->set_name("E_id");
  adam->set_state(std::string(64, '\x01'));
  proto::SchedulerState* lr = c.add_schedulers();
  lr->set_name("E_id");
  lr->set_last_epoch(1);
  lr->set_base_lr(3.5e-4);
  lr->set_current_lr(3.5e-4);
  proto::EncodeTensor(torch::nn::functional::normalize(torch::randn({24, 8})), c.mutable_memory_features());
  for (int i = 0; i < 24; ++i) c.add_pseudo_labels(i % 5 == 0 ? -1 : i % 4);
  proto::RngState* rng = c.add_rng();
  rng->set_name("bank");
  rng->set_state("123 456 789");
  proto::EpochSummary* epoch = c.add_history();
  epoch->set_phase(proto::PHASE_JOINT);
  epoch->set_epoch(0);
  epoch->set_steps(20);
  (*epoch->mutable_mean_losses())["g_total"] = 1.25;
  c.set_written_utc("2024-01-01T00:00:00Z");
  return c.SerializeAsString();
}

// The checks `--resume` applies to a checkpoint file before it restores anything.
void ReadCheckpointLikeResume(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  proto::Checkpoint c;
  if (!c.ParseFromString(bytes)) throw std::runtime_error(path + ": does not parse as a gcl.proto.Checkpoint");
  if (const std::string problem = ValidateCheckpoint(c); !problem.empty()) throw std::runtime_error(problem);
  for (const proto::ModuleState& module : c.networks()) {
    for (const proto::NamedTensor& t : module.tensors())
      proto::DecodeTensorOrThrow(t.tensor(), module.name() + "." + t.name());
  }
  if (c.has_memory_features()) proto::DecodeTensorOrThrow(c.memory_features(), "memory_features");
  ResolveRunConfig(c.config());
}

TEST(CheckpointFuzz, SerializedCheckpoints) {
  const std::string sample = SampleCheckpoint();
  const std::string path = (TestTmpDir() / "checkpoint-000000000040.pb").string();
  std::ofstream(path, std::ios::binary) << sample;
  ASSERT_NO_THROW(ReadCheckpointLikeResume(path));  // the sample itself is valid
  FuzzOptions options;
  options.seed = 1;
  options.iterations = 6000;
  options.limits.seconds = 10;
  options.limits.memory_bytes = uint64_t{512} << 20;
  const FuzzReport r = FuzzFile({sample}, path, options, ReadCheckpointLikeResume);
  EXPECT_GT(r.returned, 0);
  EXPECT_GT(r.threw, 0);
  std::printf("checkpoints: %d read, %d refused, slowest %.3f s\n", r.returned, r.threw, r.slowest_seconds);
}

}  // namespace
}  // namespace gcl::actors

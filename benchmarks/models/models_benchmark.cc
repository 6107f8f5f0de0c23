// Forward passes of the GCL networks at the reference input size (256 x 128) and the cost of loading an E_id
// export. Numbers are recorded in docs/models.md.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <thread>

#include "models/discriminator.h"
#include "models/generator.h"
#include "models/identity_encoder.h"
#include "models/identity_encoder_io.h"

namespace gcl::models {
namespace {

void SetThreads() { torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))); }

// Args: batch, width x 100.
void BM_IdentityEncoderForward(benchmark::State& state) {
  SetThreads();
  IdentityEncoderOptions o;
  o.width = static_cast<double>(state.range(1)) / 100.0;
  IdentityEncoder net(o);
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({state.range(0), 3, 256, 128});
  net->forward_parts(x);  // warm-up: oneDNN builds its primitives on the first call
  for (auto _ : state) benchmark::DoNotOptimize(net->forward_parts(x).part_code);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_IdentityEncoderForward)->Args({16, 100})->Args({16, 25})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GeneratorEncodeDecode(benchmark::State& state) {
  SetThreads();
  Generator gen{GeneratorOptions{}};
  torch::NoGradGuard no_grad;
  const torch::Tensor s = torch::randn({state.range(0), 1, 256, 128});
  const torch::Tensor code = torch::randn({state.range(0), 8192});
  gen->decode(gen->encode(s), code);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(gen->decode(gen->encode(s), code));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_GeneratorEncodeDecode)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DiscriminatorForward(benchmark::State& state) {
  SetThreads();
  MultiScaleDiscriminator d{DiscriminatorOptions{}};
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({state.range(0), 3, 256, 128});
  d->forward(x);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(d->forward(x));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DiscriminatorForward)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LoadExportedIdentityEncoder(benchmark::State& state) {
  const std::string path = "/tmp/gcl_models_benchmark_eid.safetensors";
  ExportIdentityEncoder(IdentityEncoder(IdentityEncoderOptions{}), path);
  for (auto _ : state) benchmark::DoNotOptimize(LoadExportedIdentityEncoder(path));
  std::remove(path.c_str());
}
BENCHMARK(BM_LoadExportedIdentityEncoder)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace gcl::models

BENCHMARK_MAIN();

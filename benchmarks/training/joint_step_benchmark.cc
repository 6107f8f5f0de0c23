// The stage-3 joint GCL step (training/joint_step.h) with the paper's networks (ResNet-50 E_id, reference
// generator and discriminator) at batch 16, for 128 x 64 and 256 x 128 images, against a Market-sized memory
// (12,936 x 512, K = 8192). Reports images/s and the achieved GFLOP/s of the convolutions and matrix products
// the step really executes (forward, backward and R1's double backward), and that rate as a fraction of the
// machine's matrix-product peak measured in the same binary (torch::mm, 2048 x 2048 fp32).
//
// FLOPs are counted once, in the warm-up step, by a RecordFunction observer that sees every dispatched
// aten::convolution / _convolution / convolution_backward / mm / addmm / bmm with its arguments (only the
// outermost of nested counted ops counts): 2 x multiply-adds from the shapes. Element-wise work (norms,
// activations, the optimizers) is not counted.
//
//   bazel run //benchmarks/training:joint_step_benchmark   (.bazelrc builds with -O2)
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "losses/view_contrast.h"
#include "training/joint_step.h"

namespace gcl::training {
namespace {

constexpr int64_t kBatch = 16;
constexpr int64_t kMemoryRows = 12936;  // Market-1501 training images

// ---- FLOP counter -----------------------------------------------------------------------------------------
thread_local int64_t g_counted_depth = 0;
thread_local double g_flops = 0;

// What the start callback learns (inputs are only readable there); a forward convolution's FLOPs wait for its
// output shape in the end callback.
struct CountedOp : at::ObserverContext {
  double flops = 0;
  bool forward_convolution = false;
  std::vector<int64_t> weight, input;
  bool transposed = false;
};

int64_t Numel(at::IntArrayRef sizes) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

// 2 * (output elements) * (input channels per group) * kernel area, for a forward convolution.
double ConvFlops(at::IntArrayRef output, at::IntArrayRef weight, bool transposed, at::IntArrayRef input) {
  const int64_t kernel = Numel(weight.slice(2));
  // A transposed convolution's weight is Cin x Cout/g x k: its work is per input element instead.
  return transposed ? 2.0 * Numel(input) * weight[1] * kernel : 2.0 * Numel(output) * weight[1] * kernel;
}

bool Is(const char* name, const char* op) { return std::strcmp(name, op) == 0; }

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  const char* name = fn.name();
  const bool conv = Is(name, "aten::convolution") || Is(name, "aten::_convolution");
  if (!conv && !Is(name, "aten::convolution_backward") && !Is(name, "aten::mm") && !Is(name, "aten::addmm") &&
      !Is(name, "aten::bmm")) {
    return nullptr;
  }
  ++g_counted_depth;
  auto op = std::make_unique<CountedOp>();
  if (g_counted_depth > 1) return op;  // nested inside a counted op: counted by the outer one
  const auto in = fn.inputs();
  if (conv) {
    // (input, weight, bias, stride, padding, dilation, transposed, ...)
    op->forward_convolution = true;
    op->input = in[0].toTensor().sizes().vec();
    op->weight = in[1].toTensor().sizes().vec();
    op->transposed = in[6].toBool();
  } else if (Is(name, "aten::convolution_backward")) {
    // (grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed, output_padding, groups,
    //  output_mask): grad_input and grad_weight each cost one forward convolution.
    const auto mask = in[10].toBoolList();
    op->flops =
        ConvFlops(in[0].toTensor().sizes(), in[2].toTensor().sizes(), in[7].toBool(), in[1].toTensor().sizes()) *
        ((mask[0] ? 1 : 0) + (mask[1] ? 1 : 0));
  } else if (Is(name, "aten::mm")) {
    const auto a = in[0].toTensor().sizes(), b = in[1].toTensor().sizes();
    op->flops = 2.0 * a[0] * a[1] * b[1];
  } else if (Is(name, "aten::addmm")) {
    const auto a = in[1].toTensor().sizes(), b = in[2].toTensor().sizes();
    op->flops = 2.0 * a[0] * a[1] * b[1];
  } else {
    const auto a = in[0].toTensor().sizes(), b = in[1].toTensor().sizes();
    op->flops = 2.0 * a[0] * a[1] * a[2] * b[2];
  }
  return op;
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext* ctx) {
  if (ctx == nullptr) return;
  // Outermost only: aten::convolution runs aten::_convolution inside it, backward kernels may run mm.
  if (--g_counted_depth != 0) return;
  auto* op = static_cast<CountedOp*>(ctx);
  if (op->forward_convolution) {
    const auto& out = fn.outputs();
    if (!out.empty() && out[0].isTensor()) {
      g_flops += ConvFlops(out[0].toTensor().sizes(), op->weight, op->transposed, op->input);
    }
  } else {
    g_flops += op->flops;
  }
}

// FLOPs of the convolutions and matrix products `work` dispatches on this thread (autograd's CPU backward runs
// on the calling thread and inherits the thread-local observer).
template <typename Work>
double CountFlops(Work&& work) {
  g_flops = 0;
  g_counted_depth = 0;
  const at::CallbackHandle handle =
      at::addThreadLocalCallback(at::RecordFunctionCallback(OnStart, OnEnd).needsInputs(true).needsOutputs(true));
  work();
  at::removeCallback(handle);
  return g_flops;
}

// ---- peak ---------------------------------------------------------------------------------------------------
double MatmulPeakGflops() {
  static const double peak = [] {
    const torch::Tensor a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
    torch::Tensor c = torch::mm(a, b);  // warm-up
    double best = 0;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      c = torch::mm(a, b);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, 2.0 * 2048 * 2048 * 2048 / s / 1e9);
    }
    return best;
  }();
  return peak;
}

void BM_MatmulPeak(benchmark::State& state) {
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  const torch::Tensor a = torch::randn({2048, 2048}), b = torch::randn({2048, 2048});
  for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, b).data_ptr());
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * 2048 * 2048 * 2048 * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// ---- joint step ---------------------------------------------------------------------------------------------
void BM_JointStep(benchmark::State& state) {
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  const int64_t h = state.range(0), w = state.range(1);
  torch::manual_seed(1);
  GclNetworks nets{models::IdentityEncoder(models::IdentityEncoderOptions{}),
                   models::Generator(models::GeneratorOptions{}),
                   models::MultiScaleDiscriminator(models::DiscriminatorOptions{})};
  GclOptimizers optimizers(nets, OptimizerOptions{});
  // ~500 pseudo identities plus outliers, like a Market clustering.
  const torch::Tensor labels = torch::randint(-1, 500, {kMemoryRows}, torch::kLong);
  losses::MemoryBank memory(torch::randn({kMemoryRows, 512}), labels);
  GclBatch batch;
  batch.image = torch::randn({kBatch, 3, h, w});
  batch.structure_original = torch::rand({kBatch, 1, h, w}) * 2 - 1;
  batch.structure_new = torch::rand({kBatch, 1, h, w}) * 2 - 1;
  const torch::Tensor clustered = torch::nonzero(labels.ge(0)).squeeze(1);
  batch.indices = clustered.narrow(0, 0, kBatch).clone();
  StepOptions options;  // stage 3, reference weights, tau 0.04, K 8192
  torch::Generator rng = at::make_generator<at::CPUGeneratorImpl>(1);

  // Warm-up step, with the FLOP observer on.
  const double flops = CountFlops([&] { JointStep(nets, optimizers, &memory, batch, options, rng); });
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const StepLosses l = JointStep(nets, optimizers, &memory, batch, options, rng);
    benchmark::DoNotOptimize(l.g_total);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double peak = MatmulPeakGflops();
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(kBatch) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["GFLOP/step"] = flops / 1e9;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["mm_peak_GFLOP/s"] = peak;
  state.counters["fraction_of_peak"] = flops * state.iterations() / seconds / 1e9 / peak;
}

BENCHMARK(BM_MatmulPeak)->Unit(benchmark::kMillisecond)->UseRealTime();
// Each step takes tens of seconds on 2 cores: one warm-up (FLOP-counting) step plus 2 (resp. 1) timed steps.
BENCHMARK(BM_JointStep)->Args({128, 64})->Iterations(2)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_JointStep)->Args({256, 128})->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace gcl::training

BENCHMARK_MAIN();

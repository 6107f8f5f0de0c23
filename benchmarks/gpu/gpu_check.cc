// gpu_check: the training steps on a device against the same steps on the CPU, and their speed there.
//
//   gpu_check --device=cuda --out=results/            # paper networks (benchmarks/gpu/check.sh builds and runs it)
//   gpu_check --device=cpu --size=small --out=/tmp/c  # the CPU mode: small networks, seconds
//
// (a) Parity: one stage-1 contrast step (training::ContrastOnlyStep), one GAN step (JointStep, stage 2) and one
//     joint GCL step (JointStep, stage 3), each from the same seeded weights, inputs, memory and random stream, in
//     float64 on the CPU (the reference) and on --device. Every loss and every network's gradient norm must agree
//     within |device - reference| <= rtol |reference| + atol (--rtol 1e-6, --atol 1e-12); exit status 1 when one
//     does not. float64, because float32 cannot be checked tightly here: the networks are freshly initialised,
//     their generated images nearly constant, and E_id's train-mode BatchNorm divides by near-zero batch
//     variances, which multiplies rounding by ~1e6 (measured on the CPU, paper networks: float32 against float64
//     differs by up to 8% in E_id's gradient norm in the joint step; docs/BUILDING.md). Summation order, the only
//     legitimate difference between two devices, stays ~1e-10 relative in float64; a wrong or missing term, or
//     other positives and negatives, moves the values by 1e-3 to 1.
//     The float32 error of each step against the float64 reference is reported for the CPU and for the device side
//     by side (the device's should be of the CPU's order), not checked.
// (b) Throughput: the joint step and the stage-1 step with the --size networks (paper: ResNet-50 E_id, the
//     reference G and D, 256x128 images, a Market-sized memory of 12,936 x 512 with K = 8192) at each --batches
//     size: images/s over --steps timed steps after --warmup steps, and the device's peak memory (CUDA only).
// (c) --bf16: the same throughput under bf16 autocast, and each step's error under bf16 autocast against the
//     float64 reference (reported, not checked: bf16 keeps 8 bits of mantissa).
// Writes gpu_check.json and gpu_check.md to --out. LibTorch only: it builds its inputs in memory, so that the
// CMake build of the core (CMakeLists.txt) runs it where nothing but LibTorch is installed.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/gpu/device_memory.h"
#include "common/device.h"
#include "losses/view_contrast.h"
#include "training/joint_step.h"

namespace gcl::gpu_check {
namespace {

namespace fs = std::filesystem;
using training::GclBatch;
using training::GclNetworks;
using training::Stage;
using training::StepLosses;

constexpr char kUsage[] =
    R"(usage: gpu_check [--device=auto|cpu|cuda|cuda:N] [--size=paper|small] [--batches=16,64] [--steps=N]
                 [--warmup=N] [--bf16] [--rtol=X] [--atol=X] [--parity-only] [--device-name=TEXT] [--out=DIR]
  --device       where the steps run (default auto); the reference always runs on the CPU
  --size         paper: ResNet-50 E_id, reference G and D, 256x128, memory 12936 x 512, K 8192 (default on CUDA);
                 small: ResNet-18/4, small G and D, 128x64, memory 512 x 64, K 64 (default otherwise)
  --batches      throughput batch sizes (paper: 16,64; small: 4,8); --steps timed steps (paper 10, small 2) after
                 --warmup steps (paper 3, small 1)
  --bf16         also run the steps under bf16 autocast (their error against the reference, and images/s)
  --rtol, --atol the float64 parity tolerance, 1e-6 relative and 1e-12 absolute
  --parity-only  skip the throughput measurements
  --device-name  the GPU's name for the report (check.sh passes nvidia-smi's)
  --out          folder for gpu_check.json and gpu_check.md (default .)
)";

struct Sizes {
  std::string name;
  models::IdentityEncoderOptions identity;
  int generator_dim = 16, generator_mlp = 512;
  models::DiscriminatorOptions discriminator;
  int64_t height = 256, width = 128;                // throughput images
  int64_t parity_height = 128, parity_width = 64;   // parity images (the CPU reference's cost)
  int64_t parity_batch = 4;
  int64_t memory_rows = 12936, clusters = 751, negatives = 8192;  // Market-1501: 12,936 images, 751 identities
  std::vector<int64_t> batches{16, 64};
  int steps = 10, warmup = 3;
};

Sizes PaperSizes() {
  Sizes s;
  s.name = "paper";  // every default above: the reference networks of configs/paper_market.pbtxt
  return s;
}

Sizes SmallSizes() {
  Sizes s;
  s.name = "small";
  s.identity.depth = 18;
  s.identity.width = 0.25;
  s.identity.embedding_dim = 64;
  s.generator_dim = 4;
  s.generator_mlp = 32;
  s.discriminator.dim = 8;
  s.discriminator.n_res = 2;
  s.height = 128;
  s.width = 64;
  s.parity_height = 80;  // the smallest 2:1 size E_str's dilated padding admits
  s.parity_width = 40;
  s.memory_rows = 512;
  s.clusters = 32;
  s.negatives = 64;
  s.batches = {4, 8};
  s.steps = 2;
  s.warmup = 1;
  return s;
}

struct Flags {
  std::string device = "auto", size, device_name, out = ".";
  std::vector<int64_t> batches;
  int steps = -1, warmup = -1;
  bool bf16 = false, parity_only = false;
  double rtol = 1e-6, atol = 1e-12;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string key = arg.substr(0, eq), value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    auto need = [&] {
      if (eq == std::string::npos) throw std::invalid_argument(key + " needs a value (" + key + "=...)");
    };
    auto number = [&](auto parse) {
      need();
      try {
        size_t used = 0;
        const auto v = parse(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
        return v;
      } catch (const std::exception&) {
        throw std::invalid_argument(key + "=" + value + ": not a number");
      }
    };
    const auto to_int = [](const std::string& s, size_t* used) { return std::stoi(s, used); };
    const auto to_double = [](const std::string& s, size_t* used) { return std::stod(s, used); };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (key == "--device") {
      need();
      f.device = value;
    } else if (key == "--size") {
      need();
      if (value != "paper" && value != "small") throw std::invalid_argument("--size must be paper or small");
      f.size = value;
    } else if (key == "--batches") {
      need();
      std::stringstream list(value);
      for (std::string item; std::getline(list, item, ',');) {
        size_t used = 0;
        int64_t b = 0;
        try {
          b = std::stoll(item, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != item.size() || item.empty() || b < 2) {
          throw std::invalid_argument("--batches=" + value + ": comma-separated batch sizes >= 2");
        }
        f.batches.push_back(b);
      }
    } else if (key == "--steps") {
      f.steps = number(to_int);
    } else if (key == "--warmup") {
      f.warmup = number(to_int);
    } else if (arg == "--bf16") {
      f.bf16 = true;
    } else if (arg == "--parity-only") {
      f.parity_only = true;
    } else if (key == "--rtol") {
      f.rtol = number(to_double);
    } else if (key == "--atol") {
      f.atol = number(to_double);
    } else if (key == "--device-name") {
      need();
      f.device_name = value;
    } else if (key == "--out") {
      need();
      f.out = value;
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "'\n" + kUsage);
    }
  }
  if (f.steps == 0 || f.steps < -1 || f.warmup < -1) throw std::invalid_argument("--steps must be >= 1, --warmup >= 0");
  return f;
}

// ---- inputs, all from seeds on the CPU -------------------------------------------------------------------------

GclNetworks BuildNetworks(const Sizes& s, uint64_t seed) {
  torch::manual_seed(seed);
  GclNetworks nets;
  nets.identity = models::IdentityEncoder(s.identity);
  models::GeneratorOptions g;
  g.part_code_dim = nets.identity->part_code_dim();
  g.dim = s.generator_dim;
  g.mlp_dim = s.generator_mlp;
  nets.generator = models::Generator(g);
  nets.discriminator = models::MultiScaleDiscriminator(s.discriminator);
  return nets;
}

void MoveNetworks(GclNetworks& nets, const c10::Device& device, torch::Dtype dtype) {
  for (torch::nn::Module* m : std::vector<torch::nn::Module*>{nets.identity.get(), nets.generator.get(),
                                                               nets.discriminator.get()}) {
    m->to(device, dtype);
  }
}

// Pseudo labels like a Market clustering: `clusters` identities over the rows, ~5% outliers (-1).
torch::Tensor Labels(const Sizes& s, uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor labels = torch::randint(0, s.clusters, {s.memory_rows}, torch::kLong);
  return labels.masked_fill_(torch::rand({s.memory_rows}).lt(0.05), -1);
}

torch::Tensor MemoryFeatures(const Sizes& s, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({s.memory_rows, s.identity.embedding_dim});
}

// A batch of `b` images with distinct clustered memory rows (stage 3 never batches outliers).
GclBatch Batch(int64_t b, int64_t h, int64_t w, const torch::Tensor& labels, uint64_t seed) {
  torch::manual_seed(seed);
  GclBatch batch;
  batch.image = torch::randn({b, 3, h, w});
  batch.structure_original = torch::rand({b, 1, h, w}) * 2 - 1;
  batch.structure_new = torch::rand({b, 1, h, w}) * 2 - 1;
  const torch::Tensor clustered = torch::nonzero(labels.ge(0)).squeeze(1);
  if (clustered.size(0) < b) throw std::runtime_error("the memory has fewer clustered rows than the batch size");
  batch.indices = clustered.index_select(0, torch::randperm(clustered.size(0), torch::kLong).narrow(0, 0, b));
  return batch;
}

GclBatch MoveBatch(const GclBatch& b, const c10::Device& device, torch::Dtype dtype) {
  GclBatch out;
  out.image = b.image.to(device, dtype);
  out.structure_original = b.structure_original.to(device, dtype);
  out.structure_new = b.structure_new.to(device, dtype);
  out.indices = b.indices.to(device);
  return out;
}

// ---- bf16 autocast ---------------------------------------------------------------------------------------------

// bf16 autocast for one device type over a scope, as torch.autocast(device, dtype=torch.bfloat16) sets it up.
// JointStep runs forward and backward in one call, so both run inside the region.
class Bf16Autocast {
 public:
  explicit Bf16Autocast(c10::DeviceType type) : type_(type) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    was_enabled_ = at::autocast::is_autocast_enabled(type_);
    old_dtype_ = at::autocast::get_autocast_dtype(type_);
    at::autocast::set_autocast_dtype(type_, at::kBFloat16);
    at::autocast::set_autocast_enabled(type_, true);
#else
    if (type_ == c10::kCUDA) {
      was_enabled_ = at::autocast::is_enabled();
      old_dtype_ = at::autocast::get_autocast_gpu_dtype();
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      was_enabled_ = at::autocast::is_cpu_enabled();
      old_dtype_ = at::autocast::get_autocast_cpu_dtype();
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
#endif
    at::autocast::increment_nesting();
  }
  ~Bf16Autocast() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(type_, was_enabled_);
    at::autocast::set_autocast_dtype(type_, old_dtype_);
#else
    if (type_ == c10::kCUDA) {
      at::autocast::set_enabled(was_enabled_);
      at::autocast::set_autocast_gpu_dtype(old_dtype_);
    } else {
      at::autocast::set_cpu_enabled(was_enabled_);
      at::autocast::set_autocast_cpu_dtype(old_dtype_);
    }
#endif
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  c10::DeviceType type_;
  bool was_enabled_ = false;
  at::ScalarType old_dtype_ = at::kBFloat16;
};

// ---- parity ------------------------------------------------------------------------------------------------------

enum class Step { kContrast, kGan, kJoint };
const char* StepName(Step s) {
  return s == Step::kContrast ? "stage-1 contrast step" : s == Step::kGan ? "GAN step (stage 2)" : "joint GCL step (stage 3)";
}

double GradNorm(torch::nn::Module& m) {
  double sum = 0;
  for (const torch::Tensor& p : m.parameters()) {
    if (p.grad().defined()) sum += p.grad().detach().to(torch::kCPU, torch::kDouble).pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

// The named numbers one step produces: its losses and the gradient norms of the networks it trained.
using Values = std::vector<std::pair<std::string, double>>;

Values RunStep(Step step, const Sizes& s, const c10::Device& device, torch::Dtype dtype, bool bf16) {
  GclNetworks nets = BuildNetworks(s, /*seed=*/1);
  MoveNetworks(nets, device, dtype);
  const torch::Tensor labels = Labels(s, 2);
  losses::MemoryBank memory(MemoryFeatures(s, 3).to(device, dtype), labels);
  const GclBatch batch = MoveBatch(Batch(s.parity_batch, s.parity_height, s.parity_width, labels, 4), device, dtype);
  torch::Generator rng = at::make_generator<at::CPUGeneratorImpl>(5);
  std::optional<Bf16Autocast> autocast;
  if (bf16) autocast.emplace(device.type());
  Values v;
  if (step == Step::kContrast) {
    torch::optim::Adam adam(nets.identity->parameters(), torch::optim::AdamOptions(3.5e-4).weight_decay(5e-4));
    training::ContrastStepOptions o;
    o.num_negatives = s.negatives;
    v.emplace_back("loss", training::ContrastOnlyStep(nets.identity, adam, memory, batch.image, batch.indices, o, rng));
    v.emplace_back("grad_norm E_id", GradNorm(*nets.identity));
    return v;
  }
  training::GclOptimizers optimizers(nets, training::OptimizerOptions{});
  training::StepOptions o;
  o.stage = step == Step::kGan ? Stage::kGanWarmup : Stage::kJoint;
  o.view_invariant.num_negatives = s.negatives;
  const StepLosses l = training::JointStep(nets, optimizers, step == Step::kJoint ? &memory : nullptr, batch, o, rng);
  v = {{"d_total", l.d_total},         {"d_real", l.d_real},           {"d_fake", l.d_fake},
       {"d_r1", l.d_r1},               {"g_total", l.g_total},         {"g_adversarial", l.g_adversarial},
       {"recon_image", l.recon_image}, {"cycle_image", l.cycle_image}, {"recon_feature", l.recon_feature},
       {"cycle_feature", l.cycle_feature}};
  if (step == Step::kJoint) {
    v.insert(v.end(), {{"vi_instance", l.vi_instance},
                       {"vi_cluster_generated", l.vi_cluster_generated},
                       {"vi_cluster_original", l.vi_cluster_original}});
  }
  v.emplace_back("grad_norm D", GradNorm(*nets.discriminator));
  v.emplace_back("grad_norm G", GradNorm(*nets.generator));
  if (step == Step::kJoint) v.emplace_back("grad_norm E_id", GradNorm(*nets.identity));
  return v;
}

struct Comparison {
  std::string step, value;
  double reference = 0, device = 0, error = 0;  // error: |device - reference| / max(|reference|, atol)
  bool ok = true;
};

struct ParityResult {
  std::vector<Comparison> rows;
  bool passed = true;
  double max_error = 0;
  std::string worst;  // the value with max_error
};

ParityResult Compare(Step step, const Values& reference, const Values& device, const Flags& f, bool checked) {
  ParityResult r;
  for (size_t i = 0; i < reference.size(); ++i) {
    Comparison c{StepName(step), reference[i].first, reference[i].second, device[i].second};
    const double diff = std::abs(c.device - c.reference);
    c.error = diff / std::max(std::abs(c.reference), f.atol);
    c.ok = !checked || (std::isfinite(c.device) && diff <= f.rtol * std::abs(c.reference) + f.atol);
    r.passed = r.passed && c.ok;
    if (c.error >= r.max_error) {
      r.max_error = c.error;
      r.worst = c.value;
    }
    r.rows.push_back(c);
  }
  return r;
}

// ---- throughput --------------------------------------------------------------------------------------------------

void Synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

struct Throughput {
  std::string step, precision;
  int64_t batch = 0;
  int steps = 0;
  double seconds_per_step = 0, images_per_second = 0;
  int64_t peak_bytes = -1;
};

Throughput Measure(Step step, int64_t b, const Sizes& s, const c10::Device& device, bool bf16) {
  GclNetworks nets = BuildNetworks(s, 1);
  MoveNetworks(nets, device, torch::kFloat);
  const torch::Tensor labels = Labels(s, 2);
  losses::MemoryBank memory(MemoryFeatures(s, 3).to(device), labels);
  training::GclOptimizers optimizers(nets, training::OptimizerOptions{});
  torch::optim::Adam adam(nets.identity->parameters(), torch::optim::AdamOptions(3.5e-4).weight_decay(5e-4));
  training::StepOptions o;
  o.view_invariant.num_negatives = s.negatives;
  training::ContrastStepOptions co;
  co.num_negatives = s.negatives;
  torch::Generator rng = at::make_generator<at::CPUGeneratorImpl>(5);
  // A few different batches, made before timing and cycled through.
  std::vector<GclBatch> batches;
  for (uint64_t i = 0; i < 3; ++i) batches.push_back(MoveBatch(Batch(b, s.height, s.width, labels, 10 + i), device, torch::kFloat));
  std::optional<Bf16Autocast> autocast;
  if (bf16) autocast.emplace(device.type());
  auto run = [&](int i) {
    const GclBatch& x = batches[static_cast<size_t>(i) % batches.size()];
    if (step == Step::kContrast) {
      training::ContrastOnlyStep(nets.identity, adam, memory, x.image, x.indices, co, rng);
    } else {
      training::JointStep(nets, optimizers, &memory, x, o, rng);
    }
  };
  for (int i = 0; i < s.warmup; ++i) run(i);
  Synchronize(device);
  ResetPeakDeviceMemory(device);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < s.steps; ++i) run(i);
  Synchronize(device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Throughput t{step == Step::kContrast ? "stage-1 contrast step" : "joint GCL step (stage 3)",
               bf16 ? "bf16 autocast" : "float32", b, s.steps};
  t.seconds_per_step = seconds / s.steps;
  t.images_per_second = static_cast<double>(b) * s.steps / seconds;
  t.peak_bytes = PeakDeviceMemoryBytes(device);
  return t;
}

// ---- report ------------------------------------------------------------------------------------------------------

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

std::string Number(double x) {
  if (!std::isfinite(x)) return "null";
  std::ostringstream s;
  s << std::setprecision(9) << x;
  return s.str();
}

std::string Fixed(double x, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << x;
  return s.str();
}

std::string Scientific(double x) {
  std::ostringstream s;
  s << std::scientific << std::setprecision(2) << x;
  return s.str();
}

// One step's error in a lower precision against the float64 reference: the largest relative error and where.
struct PrecisionError {
  std::string step;
  ParityResult cpu_float32, device_float32, device_bf16;  // device_bf16.rows empty without --bf16
};

struct Report {
  std::string device, device_name, torch_version, size;
  Flags flags;
  ParityResult parity;
  std::vector<PrecisionError> precision;
  std::vector<Throughput> throughput;
  double seconds = 0;
};

void WriteJson(const Report& r, const fs::path& path) {
  std::ofstream out(path);
  out << "{\n  \"device\": " << JsonString(r.device) << ",\n  \"device_name\": " << JsonString(r.device_name)
      << ",\n  \"libtorch\": " << JsonString(r.torch_version) << ",\n  \"size\": " << JsonString(r.size)
      << ",\n  \"parity\": {\"precision\": \"float64\", \"rtol\": " << Number(r.flags.rtol)
      << ", \"atol\": " << Number(r.flags.atol) << ", \"passed\": " << (r.parity.passed ? "true" : "false")
      << ", \"max_relative_error\": " << Number(r.parity.max_error) << ", \"values\": [";
  for (size_t i = 0; i < r.parity.rows.size(); ++i) {
    const Comparison& c = r.parity.rows[i];
    out << (i ? "," : "") << "\n    {\"step\": " << JsonString(c.step) << ", \"value\": " << JsonString(c.value)
        << ", \"reference\": " << Number(c.reference) << ", \"device\": " << Number(c.device)
        << ", \"relative_error\": " << Number(c.error) << ", \"ok\": " << (c.ok ? "true" : "false") << "}";
  }
  out << "]},\n  \"lower_precision_error\": [";
  auto worst = [&](const ParityResult& p) {
    if (p.rows.empty()) return std::string("null");
    return "{\"max_relative_error\": " + Number(p.max_error) + ", \"value\": " + JsonString(p.worst) + "}";
  };
  for (size_t i = 0; i < r.precision.size(); ++i) {
    const PrecisionError& e = r.precision[i];
    out << (i ? "," : "") << "\n    {\"step\": " << JsonString(e.step) << ", \"cpu_float32\": " << worst(e.cpu_float32)
        << ", \"device_float32\": " << worst(e.device_float32) << ", \"device_bf16_autocast\": " << worst(e.device_bf16)
        << "}";
  }
  out << "],\n  \"throughput\": [";
  for (size_t i = 0; i < r.throughput.size(); ++i) {
    const Throughput& t = r.throughput[i];
    out << (i ? "," : "") << "\n    {\"step\": " << JsonString(t.step) << ", \"precision\": " << JsonString(t.precision)
        << ", \"batch\": " << t.batch << ", \"timed_steps\": " << t.steps
        << ", \"seconds_per_step\": " << Number(t.seconds_per_step)
        << ", \"images_per_second\": " << Number(t.images_per_second) << ", \"peak_device_memory_mib\": "
        << (t.peak_bytes < 0 ? std::string("null") : Number(t.peak_bytes / 1048576.0)) << "}";
  }
  out << "],\n  \"seconds\": " << Number(r.seconds) << "\n}\n";
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

void WriteMarkdown(const Report& r, const fs::path& path) {
  std::ofstream out(path);
  out << "# gpu_check on " << r.device << (r.device_name.empty() ? "" : " (" + r.device_name + ")") << "\n\n"
      << "LibTorch " << r.torch_version << ", " << r.size << " networks, " << Fixed(r.seconds, 1) << " s.\n\n"
      << "## Parity: " << (r.parity.passed ? "passed" : "FAILED") << "\n\n"
      << "One step of each kind from the same seeded weights and inputs, in float64 on the CPU (reference) and on "
      << r.device << ". Tolerance |device - reference| <= " << r.flags.rtol << " |reference| + " << r.flags.atol
      << "; largest relative error " << Scientific(r.parity.max_error) << ".\n\n"
      << "| step | value | reference | device | relative error | ok |\n|---|---|---|---|---|---|\n";
  for (const Comparison& c : r.parity.rows) {
    out << "| " << c.step << " | " << c.value << " | " << Number(c.reference) << " | " << Number(c.device) << " | "
        << Scientific(c.error) << " | " << (c.ok ? "yes" : "**no**") << " |\n";
  }
  out << "\n## Lower precision against the float64 reference (not checked)\n\n"
         "Largest relative error of each step's values, and which value.\n\n"
         "| step | CPU float32 | device float32 | device bf16 autocast |\n|---|---|---|---|\n";
  auto cell = [](const ParityResult& p) {
    return p.rows.empty() ? std::string("not run") : Scientific(p.max_error) + " (" + p.worst + ")";
  };
  for (const PrecisionError& e : r.precision) {
    out << "| " << e.step << " | " << cell(e.cpu_float32) << " | " << cell(e.device_float32) << " | "
        << cell(e.device_bf16) << " |\n";
  }
  out << "\n## Throughput\n\n| step | precision | batch | s / step | images/s | peak device memory (MiB) |\n"
         "|---|---|---|---|---|---|\n";
  for (const Throughput& t : r.throughput) {
    out << "| " << t.step << " | " << t.precision << " | " << t.batch << " | " << Fixed(t.seconds_per_step, 3) << " | "
        << Fixed(t.images_per_second, 1) << " | "
        << (t.peak_bytes < 0 ? std::string("not measured") : Fixed(t.peak_bytes / 1048576.0, 0)) << " |\n";
  }
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

int Main(int argc, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  const Flags flags = ParseFlags(argc, argv);
  const c10::Device device = PickDevice(flags.device);
  Sizes sizes = (flags.size.empty() ? (device.is_cuda() ? "paper" : "small") : flags.size) == "paper"
                    ? PaperSizes()
                    : SmallSizes();
  if (flags.bf16 && !device.is_cuda() && !device.is_cpu()) {
    throw std::invalid_argument("--bf16: LibTorch's autocast is driven here for cpu and cuda only, not " + device.str());
  }
  if (!flags.batches.empty()) sizes.batches = flags.batches;
  if (flags.steps > 0) sizes.steps = flags.steps;
  if (flags.warmup >= 0) sizes.warmup = flags.warmup;
  fs::create_directories(flags.out);

  Report report;
  report.flags = flags;
  report.device = device.str();
  report.device_name = flags.device_name;
  report.torch_version = TORCH_VERSION;
  report.size = sizes.name;
  std::cerr << "gpu_check: " << device << ", " << sizes.name << " networks, LibTorch " << TORCH_VERSION << "\n";

  // (a) parity in float64, with no TF32 in cuDNN or cuBLAS (it only touches float32) and no benchmark-picked
  // algorithms; then the float32 and bf16 errors against the same reference.
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setBenchmarkCuDNN(false);
  const c10::Device cpu(c10::kCPU);
  for (const Step step : {Step::kContrast, Step::kGan, Step::kJoint}) {
    const Values reference = RunStep(step, sizes, cpu, torch::kDouble, false);
    const ParityResult p =
        Compare(step, reference, RunStep(step, sizes, device, torch::kDouble, false), flags, /*checked=*/true);
    report.parity.rows.insert(report.parity.rows.end(), p.rows.begin(), p.rows.end());
    report.parity.passed = report.parity.passed && p.passed;
    report.parity.max_error = std::max(report.parity.max_error, p.max_error);
    PrecisionError e;
    e.step = StepName(step);
    e.cpu_float32 = Compare(step, reference, RunStep(step, sizes, cpu, torch::kFloat, false), flags, false);
    e.device_float32 = device.is_cpu()
                           ? e.cpu_float32
                           : Compare(step, reference, RunStep(step, sizes, device, torch::kFloat, false), flags, false);
    if (flags.bf16) e.device_bf16 = Compare(step, reference, RunStep(step, sizes, device, torch::kFloat, true), flags, false);
    std::cerr << "  " << StepName(step) << ": float64 parity " << (p.passed ? "ok" : "FAILED") << " (largest relative error "
              << Scientific(p.max_error) << "); float32 error CPU " << Scientific(e.cpu_float32.max_error) << ", device "
              << Scientific(e.device_float32.max_error)
              << (flags.bf16 ? ", bf16 autocast " + Scientific(e.device_bf16.max_error) : std::string()) << "\n";
    report.precision.push_back(std::move(e));
  }

  // (b, c) throughput with the settings a training run gets: PyTorch's defaults (cuDNN may use TF32) and
  // benchmark-picked cuDNN algorithms, as the reference code's `cudnn.benchmark = True`.
  at::globalContext().setAllowTF32CuDNN(true);
  at::globalContext().setBenchmarkCuDNN(true);
  for (const bool bf16 : {false, true}) {
    if ((bf16 && !flags.bf16) || flags.parity_only) continue;
    for (const Step step : {Step::kJoint, Step::kContrast}) {
      for (const int64_t b : sizes.batches) {
        const Throughput t = Measure(step, b, sizes, device, bf16);
        std::cerr << "  " << t.step << ", " << t.precision << ", batch " << b << ": " << Fixed(t.images_per_second, 1)
                  << " images/s" << (t.peak_bytes < 0 ? "" : ", peak " + Fixed(t.peak_bytes / 1048576.0, 0) + " MiB")
                  << "\n";
        report.throughput.push_back(t);
      }
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WriteJson(report, fs::path(flags.out) / "gpu_check.json");
  WriteMarkdown(report, fs::path(flags.out) / "gpu_check.md");
  std::cerr << "gpu_check: parity " << (report.parity.passed ? "passed" : "FAILED") << "; wrote "
            << (fs::path(flags.out) / "gpu_check.{json,md}").string() << "\n";
  return report.parity.passed ? 0 : 1;
}

}  // namespace
}  // namespace gcl::gpu_check

int main(int argc, char** argv) {
  try {
    return gcl::gpu_check::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "gpu_check: " << e.what() << "\n";
    return 2;
  }
}

// extract: writes E_id test features of a folder of images.
//
//   bazel run //tools/extract:extract -- --images=/data/market1501/query --model=eid.safetensors --output=query
//     -> query.npy (N x 512 float32, L2-normalised, rows in sorted path order) and query.csv (path,pid,camid;
//        pid/camid from Market/Duke-style names, camid 0-based, -1 when the name does not parse)
//   ... --checkpoint=jvtc_market.pth --depth=50 --resnet_width=1   (a stage-1 / training checkpoint instead)
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "models/identity_encoder_io.h"
#include "tools/extract/extract_lib.h"

namespace {

constexpr char kUsage[] = R"(usage: extract --images=DIR --output=PREFIX (--model=EXPORT.safetensors | --checkpoint=FILE) [options]
  --images=DIR          folder of .jpg/.jpeg/.png/.bmp images (searched recursively, sorted by path)
  --output=PREFIX       writes PREFIX.npy (N x D float32) and PREFIX.csv (path,pid,camid)
  --model=FILE          an E_id export (models::ExportIdentityEncoder): options come from its metadata
  --checkpoint=FILE     a .pth/.safetensors state dict with conv1..layer4, feat, feat_bn (JVTC-style; a
                        `state_dict` level and a `module.` prefix are accepted); needs the options below
  --depth=50 --resnet_width=1 --embedding_dim=512 --num_parts=4 --last_stride_one=1   (with --checkpoint)
  --image_height=256 --image_width=128   input size (reference: 256 x 128)
  --resize=pil|opencv   bicubic kernel: PIL-exact (reference, default) or OpenCV INTER_CUBIC
  --batch_size=64 --device=auto|cpu|cuda[:N] --threads=0 (0: all CPUs)
)";

std::map<std::string, std::string> ParseFlags(int argc, char** argv) {
  static const std::set<std::string> kKnown = {
      "images", "output", "model", "checkpoint", "depth", "resnet_width", "embedding_dim", "num_parts",
      "last_stride_one", "image_height", "image_width", "resize", "batch_size", "device", "threads", "help"};
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + arg + "'");
    arg = arg.substr(2);
    std::string value;
    const size_t eq = arg.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (!kKnown.count(arg)) throw std::invalid_argument("unknown flag --" + arg);
    if (!inline_value && arg != "help") {
      if (i + 1 >= argc) throw std::invalid_argument("--" + arg + " needs a value");
      value = argv[++i];
    }
    flags[arg] = value;
  }
  return flags;
}

std::string Get(const std::map<std::string, std::string>& flags, const std::string& name, const std::string& fallback) {
  const auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

double Number(const std::map<std::string, std::string>& flags, const std::string& name, const std::string& fallback) {
  const std::string text = Get(flags, name, fallback);
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw std::invalid_argument("--" + name + "=" + text + " is not a number");
  return value;
}

int Integer(const std::map<std::string, std::string>& flags, const std::string& name, const std::string& fallback) {
  const double v = Number(flags, name, fallback);
  if (v != static_cast<int>(v)) throw std::invalid_argument("--" + name + " must be a whole number");
  return static_cast<int>(v);
}

int Run(int argc, char** argv) {
  std::map<std::string, std::string> flags = ParseFlags(argc, argv);
  for (const char* path_flag : {"images", "output", "model", "checkpoint"}) {
    const auto it = flags.find(path_flag);
    if (it != flags.end()) it->second = gcl::UserPath(it->second);
  }
  if (flags.count("help")) {
    std::cout << kUsage;
    return 0;
  }
  for (const char* required : {"images", "output"}) {
    if (!flags.count(required)) throw std::invalid_argument(std::string("--") + required + " is required");
  }
  if (flags.count("model") == flags.count("checkpoint")) {
    throw std::invalid_argument("give exactly one of --model and --checkpoint");
  }
  const int threads = Integer(flags, "threads", "0");
  if (threads < 0) throw std::invalid_argument("--threads must be >= 0");
  gcl::ConfigureThreads(threads);  // 0: $GCL_NUM_THREADS or every CPU; sets OpenBLAS too

  gcl::extract::ExtractOptions options;
  options.height = Integer(flags, "image_height", "256");
  options.width = Integer(flags, "image_width", "128");
  options.batch_size = Integer(flags, "batch_size", "64");
  const std::string resize = Get(flags, "resize", "pil");
  if (resize != "pil" && resize != "opencv") throw std::invalid_argument("--resize must be pil or opencv");
  options.resize = resize == "pil" ? gcl::data::ResizeKernel::kPilBicubic : gcl::data::ResizeKernel::kOpenCvCubic;
  if (options.height < 32 || options.width < 16) throw std::invalid_argument("--image_height/--image_width too small");
  const c10::Device device = gcl::PickDevice(Get(flags, "device", "auto"));

  gcl::models::IdentityEncoder net{nullptr};
  if (flags.count("model")) {
    net = gcl::models::LoadExportedIdentityEncoder(flags.at("model"));
  } else {
    gcl::models::IdentityEncoderOptions o;
    o.depth = Integer(flags, "depth", "50");
    o.width = Number(flags, "resnet_width", "1");
    o.embedding_dim = Integer(flags, "embedding_dim", "512");
    o.num_parts = Integer(flags, "num_parts", "4");
    o.last_stride_one = Integer(flags, "last_stride_one", "1") != 0;
    net = gcl::models::IdentityEncoder(o);
    const gcl::models::LoadReport report = gcl::models::ImportIdentityEncoderWeights(
        net, flags.at("checkpoint"), gcl::models::IdentityWeights::kFull);
    std::cerr << "loaded " << report.loaded.size() << " tensors from " << flags.at("checkpoint");
    if (!report.unexpected.empty()) {
      std::cerr << "; ignored " << report.unexpected.size() << " keys:";
      for (const std::string& key : report.unexpected) std::cerr << ' ' << key;
    }
    std::cerr << '\n';
  }

  const std::vector<std::string> images = gcl::extract::ListImages(flags.at("images"));
  std::cerr << "extracting " << images.size() << " images on " << device << '\n';
  const torch::Tensor features = gcl::extract::ExtractFeatures(net, images, options, device, [&](size_t done) {
    if (done == images.size() || done % (static_cast<size_t>(options.batch_size) * 20) == 0) {
      std::cerr << done << "/" << images.size() << '\n';
    }
  });
  const std::string prefix = flags.at("output");
  gcl::extract::WriteNpy(prefix + ".npy", features);
  gcl::extract::WriteLabelsCsv(prefix + ".csv", images);
  std::cerr << "wrote " << prefix << ".npy (" << features.size(0) << " x " << features.size(1) << ") and " << prefix
            << ".csv\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "extract: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "extract: " << e.what() << '\n';
    return 1;
  }
}

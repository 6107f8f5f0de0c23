// extract: writes E_id test features of a folder of images.
//
//   bazel run //tools/extract:extract -- --images=/data/market1501/query --model=eid.safetensors --output=query
//     -> query.npy (N x 512 float32, L2-normalised, rows in sorted path order) and query.csv (path,pid,camid;
//        pid/camid from Market/Duke-style names, camid 0-based, -1 when the name does not parse)
//   ... --checkpoint=jvtc_market.pth --depth=50 --resnet_width=1   (a stage-1 / training checkpoint instead)
#include <torch/torch.h>

#include <iostream>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "models/identity_encoder_io.h"
#include "evaluation/feature_extraction.h"

namespace {

int Run(int argc, char** argv) {
  std::string images_dir, prefix, model, checkpoint, resize = "pil", device_flag = "auto";
  int threads = 0;
  gcl::evaluation::ExtractOptions options;
  gcl::models::IdentityEncoderOptions o;  // the reference's: ResNet-50, width 1, 512-d, 4 parts, last stride 1
  int last_stride_one = 1;
  gcl::FlagSet flags("extract",
                     "extract --images=DIR --output=PREFIX (--model=EXPORT.safetensors | --checkpoint=FILE) [flags]",
                     "E_id features of a folder of images: PREFIX.npy (N x D float32, L2-normalised, rows in sorted "
                     "path order) and PREFIX.csv (path,pid,camid).");
  flags.String("images", &images_dir, "DIR", "folder of .jpg/.jpeg/.png/.bmp images (searched recursively)").Required();
  flags.String("output", &prefix, "PREFIX", "writes PREFIX.npy and PREFIX.csv").Required();
  flags.String("model", &model, "FILE", "an E_id export (models::ExportIdentityEncoder): options from its metadata");
  flags.String("checkpoint", &checkpoint, "FILE",
               "a .pth/.safetensors state dict with conv1..layer4, feat, feat_bn (JVTC-style; a\n"
               "`state_dict` level and a `module.` prefix are accepted); needs the options below");
  flags.Int("depth", &o.depth, "ResNet depth (with --checkpoint)").Min(18).Max(101);
  flags.Double("resnet_width", &o.width, "ResNet width multiplier (with --checkpoint)").Min(0.01).Max(64);
  flags.Int("embedding_dim", &o.embedding_dim, "embedding size (with --checkpoint)").Min(1).Max(65536);
  flags.Int("num_parts", &o.num_parts, "part-pooling stripes (with --checkpoint)").Min(1).Max(64);
  flags.Int("last_stride_one", &last_stride_one, "1: layer4 keeps stride 1 (with --checkpoint)").Min(0).Max(1);
  flags.Int("image_height", &options.height, "input height (reference: 256)")
      .Min(gcl::evaluation::kMinImageHeight)
      .Max(gcl::evaluation::kMaxImageSide);
  flags.Int("image_width", &options.width, "input width (reference: 128)")
      .Min(gcl::evaluation::kMinImageWidth)
      .Max(gcl::evaluation::kMaxImageSide);
  flags.Int64("max_image_pixels", &options.max_image_pixels, "images with more pixels are refused before decoding")
      .Min(1);
  flags.String("resize", &resize, "pil|opencv", "bicubic kernel: PIL-exact (reference) or OpenCV INTER_CUBIC");
  flags.Int("batch_size", &options.batch_size, "images per forward pass").Min(1).Max(65536);
  flags.String("device", &device_flag, "auto|cpu|cuda[:N]", "where the network runs");
  flags.Int("threads", &threads, "LibTorch threads (0: $GCL_NUM_THREADS or all CPUs)").Min(0).Max(4096);
  if (!flags.Parse(argc, argv)) return 0;
  if (model.empty() == checkpoint.empty()) throw gcl::FlagError("give exactly one of --model and --checkpoint");
  if (resize != "pil" && resize != "opencv") throw gcl::FlagError("--resize=" + resize + ": must be pil or opencv");
  options.resize = resize == "pil" ? gcl::data::ResizeKernel::kPilBicubic : gcl::data::ResizeKernel::kOpenCvCubic;
  gcl::ConfigureThreads(threads);  // 0: $GCL_NUM_THREADS or every CPU; sets OpenBLAS too
  const c10::Device device = gcl::PickDevice(device_flag);

  gcl::models::IdentityEncoder net{nullptr};
  if (!model.empty()) {
    net = gcl::models::LoadExportedIdentityEncoder(gcl::UserPath(model));
  } else {
    checkpoint = gcl::UserPath(checkpoint);
    o.last_stride_one = last_stride_one != 0;
    net = gcl::models::IdentityEncoder(o);
    const gcl::models::LoadReport report =
        gcl::models::ImportIdentityEncoderWeights(net, checkpoint, gcl::models::IdentityWeights::kFull);
    std::cerr << "loaded " << report.loaded.size() << " tensors from " << checkpoint;
    if (!report.unexpected.empty()) {
      std::cerr << "; ignored " << report.unexpected.size() << " keys:";
      for (const std::string& key : report.unexpected) std::cerr << ' ' << key;
    }
    std::cerr << '\n';
  }

  const std::vector<std::string> images = gcl::evaluation::ListImages(gcl::UserPath(images_dir));
  std::cerr << "extracting " << images.size() << " images on " << device << '\n';
  const torch::Tensor features = gcl::evaluation::ExtractFeatures(net, images, options, device, [&](size_t done) {
    if (done == images.size() || done % (static_cast<size_t>(options.batch_size) * 20) == 0) {
      std::cerr << done << "/" << images.size() << '\n';
    }
  });
  prefix = gcl::UserPath(prefix);
  gcl::evaluation::WriteNpy(prefix + ".npy", features);
  gcl::evaluation::WriteLabelsCsv(prefix + ".csv", images);
  std::cerr << "wrote " << prefix << ".npy (" << features.size(0) << " x " << features.size(1) << ") and " << prefix
            << ".csv\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return gcl::RunCommand("extract", 1, [&] { return Run(argc, argv); });
}

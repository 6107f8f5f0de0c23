// generate: novel views of given images at chosen angles with a trained run's E_id + E_str + G (paper Fig. 1):
// G(E_str(structure render at the angle), E_id part code of the image). The structure render of an image at an
// angle is <structures>/<render folder>/<the image's file name> (GCL's mesh layout, reference §3: render/,
// render_45/, ...).
//
//   bazel run //tools/generate:generate -- --run=runs/quick
//       --images=data/bounding_box_train/0001_c1s1_000010_00.jpg --structures=data/mesh/train --angles=0,90,180
//     -> generated.png: one row per image, the input first, then one column per angle
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/flags.h"
#include "common/numbers.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "data/datasets/reid_dataset.h"
#include "data/pipeline/image_transforms.h"
#include "tools/train/networks.h"
#include "tools/train/train_config.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

cv::Mat ToBgr8(const torch::Tensor& chw) {
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({3, 1, 1});
  const torch::Tensor stdv = torch::tensor({0.229f, 0.224f, 0.225f}).view({3, 1, 1});
  const torch::Tensor rgb =
      ((chw.to(torch::kCPU) * stdv + mean) * 255.0).clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  cv::Mat image(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, rgb.data_ptr());
  cv::Mat bgr;
  cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

}  // namespace

int main(int argc, char** argv) {
  return gcl::RunCommand("generate", 2, [&]() -> int {
    std::string run_flag, checkpoint, images_flag, structures_flag, angles_flag = "0,45,90,135,180,225,270,315";
    std::string output = "generated.png", device_flag = "auto";
    int threads = 0;
    gcl::FlagSet flags("generate", "generate --run=RUN_DIR --images=A.jpg[,B.jpg...] --structures=DIR [flags]",
                       "Novel views of given images at chosen angles from a trained run's E_id, E_str and G.");
    flags.String("run", &run_flag, "DIR", "a training run folder (its config.pbtxt and checkpoints/)").Required();
    flags.String("checkpoint", &checkpoint, "FILE", "a checkpoint to use instead of the run's newest");
    flags.String("images", &images_flag, "LIST", "comma-separated images").Required();
    flags
        .String("structures", &structures_flag, "DIR",
                "the mesh-render folder holding render/, render_45/, ... with the images' file names")
        .Required();
    flags.String("angles", &angles_flag, "LIST", "comma-separated angles out of 0,45,...,315");
    flags.String("output", &output, "FILE.png", "the picture: one row per image, the input, then one column per angle");
    flags.String("device", &device_flag, "auto|cpu|cuda[:N]", "where the networks run");
    flags.Int("threads", &threads, "LibTorch threads (0: $GCL_NUM_THREADS or all CPUs)").Min(0).Max(4096);
    if (!flags.Parse(argc, argv)) return 0;
    std::vector<int> angles;
    for (const std::string& a : Split(angles_flag)) {
      int64_t angle = 0;
      if (const std::string problem = gcl::ParseInteger(a, 0, 315, &angle); !problem.empty()) {
        throw gcl::FlagError("--angles=" + angles_flag + ": '" + a + "' " + problem);
      }
      try {
        gcl::data::RenderFolderName(static_cast<int>(angle));  // throws for an angle without a render folder
      } catch (const std::invalid_argument& e) {
        throw gcl::FlagError("--angles=" + angles_flag + ": " + e.what());
      }
      angles.push_back(static_cast<int>(angle));
    }
    const std::vector<std::string> images = Split(images_flag);
    if (images.empty() || angles.empty()) throw gcl::FlagError("--images and --angles must not be empty");
    gcl::ConfigureThreads(threads);
    const std::string run = gcl::UserPath(run_flag);
    gcl::proto::TrainConfig config = gcl::train::LoadTrainConfig(run + "/config.pbtxt");
    config.mutable_model()->clear_identity_init();  // the checkpoint holds every weight
    config = gcl::train::ResolveTrainConfig(config);
    const c10::Device device = gcl::PickDevice(device_flag);
    gcl::training::GclNetworks nets = gcl::train::BuildNetworks(config, device);
    gcl::train::RestoreNetworks(
        gcl::train::ReadCheckpointFile(!checkpoint.empty() ? gcl::UserPath(checkpoint) : run + "/checkpoints"), &nets);
    nets.identity->eval();
    nets.generator->eval();
    const int h = config.data().height(), w = config.data().width(), header = 18;
    cv::Mat grid(header + static_cast<int>(images.size()) * h, (1 + static_cast<int>(angles.size())) * w, CV_8UC3,
                 cv::Scalar(255, 255, 255));
    cv::putText(grid, "input", {2, 13}, cv::FONT_HERSHEY_SIMPLEX, 0.35, {0, 0, 0}, 1);
    for (size_t a = 0; a < angles.size(); ++a) {
      cv::putText(grid, std::to_string(angles[a]), {static_cast<int>(a + 1) * w + 2, 13}, cv::FONT_HERSHEY_SIMPLEX,
                  0.35, {0, 0, 0}, 1);
    }
    torch::NoGradGuard no_grad;
    const std::string structures = gcl::UserPath(structures_flag);
    for (size_t row = 0; row < images.size(); ++row) {
      const std::string path = gcl::UserPath(images[row]);
      const cv::Mat rgb = gcl::data::Resize(gcl::data::DecodeRgb(path), h, w, gcl::data::ResizeKernel::kPilBicubic);
      torch::Tensor image = torch::empty({1, 3, h, w});
      gcl::data::NormalizeToChw(rgb, gcl::data::kImageNetNorm, image.data_ptr<float>());
      torch::Tensor s = torch::empty({static_cast<int64_t>(angles.size()), 1, h, w});
      for (size_t a = 0; a < angles.size(); ++a) {
        const std::string render =
            structures + "/" + gcl::data::RenderFolderName(angles[a]) + "/" + fs::path(path).filename().string();
        const cv::Mat luma = gcl::data::Resize(gcl::data::DecodeLuma(render), h, w, gcl::data::ResizeKernel::kPilBicubic);
        gcl::data::NormalizeToChw(luma, gcl::data::kStructureNorm, s[static_cast<int64_t>(a)].data_ptr<float>());
      }
      const torch::Tensor code = nets.identity->part_code(image.to(device));
      const torch::Tensor views = nets.generator->decode(nets.generator->encode(s.to(device)),
                                                         code.expand({static_cast<int64_t>(angles.size()), code.size(1)}));
      const int y = header + static_cast<int>(row) * h;
      ToBgr8(image[0]).copyTo(grid(cv::Rect(0, y, w, h)));
      for (size_t a = 0; a < angles.size(); ++a) {
        ToBgr8(views[static_cast<int64_t>(a)]).copyTo(grid(cv::Rect(static_cast<int>(a + 1) * w, y, w, h)));
      }
    }
    output = gcl::UserPath(output);
    if (!cv::imwrite(output, grid)) throw std::runtime_error(output + ": cannot write the picture");
    std::cerr << "wrote " << output << "\n";
    return 0;
  });
}

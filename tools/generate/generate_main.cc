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
#include "training/networks.h"
#include "training/train_config.h"

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
    gcl::proto::TrainConfig config = gcl::training::LoadTrainConfig(run + "/config.pbtxt");
    config.mutable_model()->clear_identity_init();  // the checkpoint holds every weight
    config = gcl::training::ResolveTrainConfig(config);
    const c10::Device device = gcl::PickDevice(device_flag);
    gcl::training::GclNetworks nets = gcl::training::BuildNetworks(config, device);
    const std::string checkpoint_path = !checkpoint.empty() ? gcl::UserPath(checkpoint) : run + "/checkpoints";
    gcl::training::RestoreNetworks(gcl::training::ReadCheckpointFile(checkpoint_path), &nets);
    const int h = config.data().height(), w = config.data().width();
    const auto num_angles = static_cast<int64_t>(angles.size());
    torch::Tensor image_batch = torch::empty({static_cast<int64_t>(images.size()), 3, h, w});
    torch::Tensor structure_batch = torch::empty({static_cast<int64_t>(images.size()), num_angles, 1, h, w});
    const std::string structures = gcl::UserPath(structures_flag);
    for (size_t row = 0; row < images.size(); ++row) {
      const auto r = static_cast<int64_t>(row);
      const std::string path = gcl::UserPath(images[row]);
      const cv::Mat rgb = gcl::data::Resize(gcl::data::DecodeRgb(path), h, w, gcl::data::ResizeKernel::kPilBicubic);
      gcl::data::NormalizeToChw(rgb, gcl::data::kImageNetNorm, image_batch[r].data_ptr<float>());
      for (int64_t a = 0; a < num_angles; ++a) {
        const std::string render = structures + "/" + gcl::data::RenderFolderName(angles[static_cast<size_t>(a)]) +
                                   "/" + fs::path(path).filename().string();
        const cv::Mat luma =
            gcl::data::Resize(gcl::data::DecodeLuma(render), h, w, gcl::data::ResizeKernel::kPilBicubic);
        gcl::data::NormalizeToChw(luma, gcl::data::kStructureNorm, structure_batch[r][a].data_ptr<float>());
      }
    }
    const cv::Mat grid = gcl::training::NovelViewGrid(nets, image_batch, structure_batch, angles, device);
    output = gcl::UserPath(output);
    if (!cv::imwrite(output, grid)) throw std::runtime_error(output + ": cannot write the picture");
    std::cerr << "wrote " << output << "\n";
    return 0;
  });
}

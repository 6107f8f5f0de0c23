// search: ranks a gallery for one query image with an exported E_id (runs/<name>/export/eid_*.safetensors) and
// draws the ranked list. When the file names carry identities (Market/Duke style `0002_c3s1_000451_03.jpg`), each
// result gets a green (same identity) or red (other identity) border, and same-identity same-camera gallery
// images are left out as in the evaluation protocol (reference §8).
//
//   bazel run //tools/search:search -- --model=runs/quick/export/eid_best.safetensors
//       --query=/data/market/query/0001_c1s1_001051_00.jpg --gallery=/data/market/bounding_box_test --top=10
//     -> search.png (query, then the top results with their distances) and the ranked list on stdout
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/flags.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "data/pipeline/image_transforms.h"
#include "models/identity_encoder_io.h"
#include "evaluation/feature_extraction.h"

namespace {

cv::Mat Cell(const std::string& path, int h, int w, const cv::Scalar& border, const std::string& caption) {
  cv::Mat image = gcl::data::DecodeBgr(path);  // checked by its header first, as for the features
  cv::resize(image, image, {w, h}, 0, 0, cv::INTER_CUBIC);
  cv::Mat cell(h + 28, w + 8, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(cell, {0, 0}, {w + 7, h + 7}, border, cv::FILLED);
  image.copyTo(cell(cv::Rect(4, 4, w, h)));
  cv::putText(cell, caption, {2, h + 22}, cv::FONT_HERSHEY_SIMPLEX, 0.38, {0, 0, 0}, 1, cv::LINE_AA);
  return cell;
}

}  // namespace

int main(int argc, char** argv) {
  return gcl::RunCommand("search", 2, [&]() -> int {
    std::string model, query_flag, gallery_flag, output = "search.png", device_flag = "auto";
    int top = 10, threads = 0;
    bool keep_same_camera = false;
    gcl::evaluation::ExtractOptions options;
    gcl::FlagSet flags("search", "search --model=EXPORT.safetensors --query=IMAGE --gallery=DIR [flags]",
                       "Ranks a gallery for one query image with an exported E_id and draws the ranked list.");
    flags
        .String("model", &model, "FILE",
                "an E_id export (runs/<name>/export/eid_best.safetensors, eid_final, eid_stage1)")
        .Required();
    flags.String("query", &query_flag, "IMAGE", "the query image").Required();
    flags.String("gallery", &gallery_flag, "DIR", "a folder of gallery images (searched recursively)").Required();
    flags.Int("top", &top, "results to show").Min(1).Max(1000);
    flags.String("output", &output, "FILE.png", "the ranked-list picture");
    flags.Int("image_height", &options.height, "the network input height the model was trained with")
        .Min(gcl::evaluation::kMinImageHeight)
        .Max(gcl::evaluation::kMaxImageSide);
    flags.Int("image_width", &options.width, "the network input width")
        .Min(gcl::evaluation::kMinImageWidth)
        .Max(gcl::evaluation::kMaxImageSide);
    flags.Bool("keep_same_camera", &keep_same_camera,
               "keep gallery images of the query's identity and camera (dropped by default, reference §8)");
    flags.String("device", &device_flag, "auto|cpu|cuda[:N]", "where the network runs");
    flags.Int("threads", &threads, "LibTorch threads (0: $GCL_NUM_THREADS or all CPUs)").Min(0).Max(4096);
    if (!flags.Parse(argc, argv)) return 0;
    gcl::ConfigureThreads(threads);
    const c10::Device device = gcl::PickDevice(device_flag);
    gcl::models::IdentityEncoder net = gcl::models::LoadExportedIdentityEncoder(gcl::UserPath(model));
    const std::string query = gcl::UserPath(query_flag);
    std::vector<std::string> gallery = gcl::evaluation::ListImages(gcl::UserPath(gallery_flag));
    const gcl::evaluation::ImageLabel q = gcl::evaluation::LabelFromPath(query);
    const bool labelled = q.pid >= 0;
    if (labelled && !keep_same_camera) {
      gallery.erase(std::remove_if(gallery.begin(), gallery.end(),
                                   [&](const std::string& g) {
                                     const gcl::evaluation::ImageLabel l = gcl::evaluation::LabelFromPath(g);
                                     return l.pid == q.pid && l.camid == q.camid;
                                   }),
                    gallery.end());
    }
    if (gallery.empty()) throw std::runtime_error(gallery_flag + ": no gallery image left to search");
    const torch::Tensor fq = gcl::evaluation::ExtractFeatures(net, {query}, options, device);
    const torch::Tensor fg = gcl::evaluation::ExtractFeatures(net, gallery, options, device);
    const torch::Tensor dist = (2 - 2 * torch::mv(fg, fq[0])).clamp_min(0);  // squared L2 of unit vectors (§8)
    const torch::Tensor order = std::get<1>(dist.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
    top = std::min<int>(top, static_cast<int>(gallery.size()));
    const int h = 128, w = 64;
    std::vector<cv::Mat> cells = {Cell(query, h, w, {128, 128, 128}, "query")};
    std::cout << "rank,distance,match,path\n";
    for (int r = 0; r < top; ++r) {
      const int64_t g = order[r].item<int64_t>();
      const float d = dist[g].item<float>();
      const gcl::evaluation::ImageLabel l = gcl::evaluation::LabelFromPath(gallery[static_cast<size_t>(g)]);
      const bool match = labelled && l.pid == q.pid;
      const cv::Scalar border = !labelled ? cv::Scalar(200, 200, 200) : match ? cv::Scalar(0, 170, 0) : cv::Scalar(0, 0, 220);
      std::ostringstream caption;
      caption << r + 1 << ": " << std::fixed << std::setprecision(3) << d;
      cells.push_back(Cell(gallery[static_cast<size_t>(g)], h, w, border, caption.str()));
      std::cout << r + 1 << "," << d << "," << (labelled ? (match ? "yes" : "no") : "unknown") << ","
                << gallery[static_cast<size_t>(g)] << "\n";
    }
    cv::Mat row;
    cv::hconcat(cells, row);
    output = gcl::UserPath(output);
    if (!cv::imwrite(output, row)) throw std::runtime_error(output + ": cannot write the picture");
    std::cerr << "wrote " << output << "\n";
    return 0;
  });
}

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

#include "common/user_path.h"
#include "common/torch_runtime.h"
#include "data/pipeline/image_transforms.h"
#include "models/identity_encoder_io.h"
#include "tools/extract/extract_lib.h"

namespace {

constexpr char kUsage[] = R"(usage: search --model=EXPORT.safetensors --query=IMAGE --gallery=DIR [options]
  --model=FILE        an E_id export (runs/<name>/export/eid_best.safetensors, eid_final, eid_stage1)
  --query=IMAGE       the query image
  --gallery=DIR       a folder of gallery images (searched recursively)
  --top=10            results to show
  --output=search.png the ranked-list picture
  --image_height=256 --image_width=128   the network input size the model was trained with
  --keep_same_camera  keep gallery images of the query's identity and camera (dropped by default, reference §8)
  --device=auto --threads=0
)";

cv::Mat Cell(const std::string& path, int h, int w, const cv::Scalar& border, const std::string& caption) {
  cv::Mat image = cv::imread(path);
  if (image.empty()) throw std::runtime_error(path + ": cannot read the image");
  cv::resize(image, image, {w, h}, 0, 0, cv::INTER_CUBIC);
  cv::Mat cell(h + 28, w + 8, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(cell, {0, 0}, {w + 7, h + 7}, border, cv::FILLED);
  image.copyTo(cell(cv::Rect(4, 4, w, h)));
  cv::putText(cell, caption, {2, h + 22}, cv::FONT_HERSHEY_SIMPLEX, 0.38, {0, 0, 0}, 1, cv::LINE_AA);
  return cell;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::map<std::string, std::string> flags = {{"top", "10"},           {"output", "search.png"},
                                                {"image_height", "256"}, {"image_width", "128"},
                                                {"device", "auto"},      {"threads", "0"}};
    bool keep_same_camera = false;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::cout << kUsage;
        return 0;
      }
      if (arg == "--keep_same_camera") {
        keep_same_camera = true;
        continue;
      }
      const size_t eq = arg.find('=');
      if (arg.rfind("--", 0) != 0 || eq == std::string::npos) throw std::invalid_argument("bad argument '" + arg + "'");
      const std::string key = arg.substr(2, eq - 2);
      if (key != "model" && key != "query" && key != "gallery" && !flags.count(key)) {
        throw std::invalid_argument("unknown flag --" + key + "\n" + kUsage);
      }
      flags[key] = arg.substr(eq + 1);
    }
    for (const char* required : {"model", "query", "gallery"}) {
      if (!flags.count(required)) throw std::invalid_argument(std::string("--") + required + " is required\n" + kUsage);
    }
    gcl::ConfigureThreads(std::stoi(flags["threads"]));
    const c10::Device device = gcl::PickDevice(flags["device"]);
    gcl::models::IdentityEncoder net = gcl::models::LoadExportedIdentityEncoder(gcl::UserPath(flags["model"]));
    gcl::extract::ExtractOptions options;
    options.height = std::stoi(flags["image_height"]);
    options.width = std::stoi(flags["image_width"]);
    const std::string query = gcl::UserPath(flags["query"]);
    std::vector<std::string> gallery = gcl::extract::ListImages(gcl::UserPath(flags["gallery"]));
    const gcl::extract::ImageLabel q = gcl::extract::LabelFromPath(query);
    const bool labelled = q.pid >= 0;
    if (labelled && !keep_same_camera) {
      gallery.erase(std::remove_if(gallery.begin(), gallery.end(),
                                   [&](const std::string& g) {
                                     const gcl::extract::ImageLabel l = gcl::extract::LabelFromPath(g);
                                     return l.pid == q.pid && l.camid == q.camid;
                                   }),
                    gallery.end());
    }
    if (gallery.empty()) throw std::runtime_error(flags["gallery"] + ": no gallery image left to search");
    const torch::Tensor fq = gcl::extract::ExtractFeatures(net, {query}, options, device);
    const torch::Tensor fg = gcl::extract::ExtractFeatures(net, gallery, options, device);
    const torch::Tensor dist = (2 - 2 * torch::mv(fg, fq[0])).clamp_min(0);  // squared L2 of unit vectors (§8)
    const torch::Tensor order = std::get<1>(dist.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
    const int top = std::min<int>(std::stoi(flags["top"]), static_cast<int>(gallery.size()));
    const int h = 128, w = 64;
    std::vector<cv::Mat> cells = {Cell(query, h, w, {128, 128, 128}, "query")};
    std::cout << "rank,distance,match,path\n";
    for (int r = 0; r < top; ++r) {
      const int64_t g = order[r].item<int64_t>();
      const float d = dist[g].item<float>();
      const gcl::extract::ImageLabel l = gcl::extract::LabelFromPath(gallery[static_cast<size_t>(g)]);
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
    const std::string output = gcl::UserPath(flags["output"]);
    if (!cv::imwrite(output, row)) throw std::runtime_error(output + ": cannot write the picture");
    std::cerr << "wrote " << output << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "search: " << e.what() << "\n";
    return 2;
  }
}

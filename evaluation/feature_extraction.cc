#include "evaluation/feature_extraction.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <utility>

#include "data/datasets/reid_names.h"

namespace gcl::evaluation {
namespace fs = std::filesystem;

void ValidateExtractOptions(const ExtractOptions& o) {
  if (o.height < kMinImageHeight || o.height > kMaxImageSide) {
    throw std::invalid_argument("image height " + std::to_string(o.height) + " is outside " +
                                std::to_string(kMinImageHeight) + ".." + std::to_string(kMaxImageSide));
  }
  if (o.width < kMinImageWidth || o.width > kMaxImageSide) {
    throw std::invalid_argument("image width " + std::to_string(o.width) + " is outside " +
                                std::to_string(kMinImageWidth) + ".." + std::to_string(kMaxImageSide));
  }
  if (o.batch_size < 1) throw std::invalid_argument("batch size " + std::to_string(o.batch_size) + " is below 1");
  if (o.max_image_pixels < 1) throw std::invalid_argument("max_image_pixels must be >= 1");
}

std::vector<std::string> ListImages(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir + ": not a folder");
  // Folders by (device, inode): a folder reached a second time (a `self -> .` link, two links to one folder) is
  // not entered again, so a cycle of links cannot list images many times over.
  std::set<std::pair<dev_t, ino_t>> visited;
  std::vector<fs::path> pending = {fs::path(dir)};
  std::vector<std::string> out;
  while (!pending.empty()) {
    const fs::path folder = pending.back();
    pending.pop_back();
    struct stat st;
    if (::stat(folder.c_str(), &st) != 0 || !visited.insert({st.st_dev, st.st_ino}).second) continue;
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      std::error_code entry_error;
      if (it->is_directory(entry_error)) {  // follows links to folders
        pending.push_back(it->path());
        continue;
      }
      if (!it->is_regular_file(entry_error)) continue;
      std::string ext = it->path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp") out.push_back(it->path().string());
    }
    if (ec) throw std::runtime_error(folder.string() + ": cannot list: " + ec.message());
  }
  if (out.empty()) throw std::runtime_error(dir + ": no .jpg/.jpeg/.png/.bmp images found");
  std::sort(out.begin(), out.end());
  return out;
}

ImageLabel LabelFromPath(const std::string& path) {
  data::MarketName name;
  ImageLabel label;
  if (data::ParseMarketName(fs::path(path).filename().string(), &name)) {
    label.pid = name.pid;
    label.camid = name.camera - 1;
  }
  return label;
}

torch::Tensor LoadBatch(const std::vector<std::string>& paths, const ExtractOptions& options) {
  ValidateExtractOptions(options);
  const int64_t h = options.height, w = options.width;
  torch::Tensor batch = torch::empty({static_cast<int64_t>(paths.size()), 3, h, w});
  for (size_t i = 0; i < paths.size(); ++i) {
    const cv::Mat resized = data::Resize(data::DecodeRgb(paths[i], options.max_image_pixels), options.height,
                                         options.width, options.resize);
    data::NormalizeToChw(resized, data::kImageNetNorm, batch[static_cast<int64_t>(i)].data_ptr<float>());
  }
  return batch;
}

torch::Tensor ExtractFeatures(models::IdentityEncoder& net, const std::vector<std::string>& paths,
                              const ExtractOptions& options, const c10::Device& device,
                              const std::function<void(size_t)>& progress) {
  ValidateExtractOptions(options);
  torch::NoGradGuard no_grad;
  net->eval();
  net->to(device);
  std::vector<torch::Tensor> parts;
  for (size_t start = 0; start < paths.size(); start += static_cast<size_t>(options.batch_size)) {
    const size_t end = std::min(paths.size(), start + static_cast<size_t>(options.batch_size));
    const std::vector<std::string> chunk(paths.begin() + static_cast<std::ptrdiff_t>(start),
                                         paths.begin() + static_cast<std::ptrdiff_t>(end));
    parts.push_back(net->forward(LoadBatch(chunk, options).to(device)).to(torch::kCPU, torch::kFloat32));
    const torch::Tensor finite = torch::isfinite(parts.back()).all(1);
    if (!finite.all().item<bool>()) {
      const int64_t row = (~finite).nonzero()[0][0].item<int64_t>();
      throw std::runtime_error("the model gives a non-finite (NaN or Inf) feature for " +
                               chunk[static_cast<size_t>(row)] + "; its weights are damaged (a diverged run?)");
    }
    if (progress) progress(end);
  }
  return torch::cat(parts, 0);
}

void WriteNpy(const std::string& path, const torch::Tensor& matrix) {
  if (matrix.dim() != 2) throw std::runtime_error(path + ": .npy writer wants a 2-D tensor, got " + c10::str(matrix.sizes()));
  const torch::Tensor m = matrix.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(m.size(0)) + ", " +
                       std::to_string(m.size(1)) + "), }";
  // magic (6) + version (2) + header length (2) + header, padded with spaces and ended by '\n' to a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(tmp + ": cannot open for writing");
    out.write("\x93NUMPY\x01\x00", 8);
    const auto len = static_cast<uint16_t>(header.size());
    const char len_bytes[2] = {static_cast<char>(len & 0xFF), static_cast<char>(len >> 8)};
    out.write(len_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(static_cast<const char*>(m.data_ptr()), static_cast<std::streamsize>(m.numel() * sizeof(float)));
    out.flush();
    if (!out) throw std::runtime_error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error(path + ": cannot rename " + tmp + " into place");
}

void WriteLabelsCsv(const std::string& path, const std::vector<std::string>& images) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error(tmp + ": cannot open for writing");
    out << "path,pid,camid\n";
    for (const std::string& image : images) {
      if (image.find_first_of(",\"\n") != std::string::npos) {
        std::string quoted = "\"";
        for (const char c : image) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        out << quoted << '"';
      } else {
        out << image;
      }
      const ImageLabel label = LabelFromPath(image);
      out << ',' << label.pid << ',' << label.camid << '\n';
    }
    out.flush();
    if (!out) throw std::runtime_error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::runtime_error(path + ": cannot rename " + tmp + " into place");
}

}  // namespace gcl::evaluation

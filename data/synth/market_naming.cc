#include "data/synth/market_naming.h"

#include <cstdio>
#include <regex>
#include <stdexcept>

namespace gcl::data {

std::string FormatMarketName(const MarketName& name) {
  auto fail = [&](const std::string& field, const std::string& range) {
    throw std::runtime_error("MarketName." + field + " out of range " + range + " (pid " +
                             std::to_string(name.pid) + ", camera " + std::to_string(name.camera) + ")");
  };
  if (name.pid < -1 || name.pid > 9999) fail("pid", "[-1, 9999]");
  if (name.camera < 1 || name.camera > 9) fail("camera", "[1, 9]");
  if (name.sequence < 1 || name.sequence > 9) fail("sequence", "[1, 9]");
  if (name.frame < 0 || name.frame > 999999) fail("frame", "[0, 999999]");
  if (name.box < 0 || name.box > 99) fail("box", "[0, 99]");
  char buffer[64];
  if (name.pid == -1) {
    std::snprintf(buffer, sizeof(buffer), "-1_c%ds%d_%06d_%02d.jpg", name.camera, name.sequence, name.frame,
                  name.box);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%04d_c%ds%d_%06d_%02d.jpg", name.pid, name.camera, name.sequence,
                  name.frame, name.box);
  }
  return buffer;
}

MarketName ParseMarketName(const std::string& file_name) {
  const size_t slash = file_name.find_last_of('/');
  const std::string base = slash == std::string::npos ? file_name : file_name.substr(slash + 1);
  static const std::regex kPattern(R"(^(-1|\d{4})_c(\d)s(\d)_(\d{6})_(\d{2})\.jpg$)");
  std::smatch match;
  if (!std::regex_match(base, match, kPattern)) {
    throw std::runtime_error("'" + file_name + "' is not a Market-1501 image name (PPPP_cCsS_FFFFFF_BB.jpg)");
  }
  MarketName name;
  name.pid = std::stoi(match[1].str());
  name.camera = std::stoi(match[2].str());
  name.sequence = std::stoi(match[3].str());
  name.frame = std::stoi(match[4].str());
  name.box = std::stoi(match[5].str());
  if (name.camera < 1 || name.sequence < 1) {
    throw std::runtime_error("'" + file_name + "': camera and sequence numbers start at 1");
  }
  return name;
}

}  // namespace gcl::data

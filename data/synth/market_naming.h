// Market-1501 image file names: `PPPP_cCsS_FFFFFF_BB.jpg`.
//
// PPPP is the person id (0000 = distractor, the junk id -1 is written "-1"), C the camera (1..9), S the video
// sequence of that camera (1..9), FFFFFF the frame number and BB the detection box index in that frame.
// Readers in this project (and GCL's, reference §9) take pid and camera with the regex `([-\d]+)_c(\d)`.
//
//   gcl::data::MarketName name{/*pid=*/2, /*camera=*/1, /*sequence=*/1, /*frame=*/451, /*box=*/3};
//   FormatMarketName(name) == "0002_c1s1_000451_03.jpg";
//   ParseMarketName("0002_c1s1_000451_03.jpg").frame == 451;
#ifndef GCL_DATA_SYNTH_MARKET_NAMING_H_
#define GCL_DATA_SYNTH_MARKET_NAMING_H_

#include <string>

namespace gcl::data {

struct MarketName {
  int pid = 0;       // -1 (junk), 0 (distractor) or 1..9999
  int camera = 1;    // 1..9, 1-based as in the file names
  int sequence = 1;  // 1..9
  int frame = 0;     // 0..999999
  int box = 0;       // 0..99

  bool operator==(const MarketName& other) const {
    return pid == other.pid && camera == other.camera && sequence == other.sequence && frame == other.frame &&
           box == other.box;
  }
};

// Throws std::runtime_error naming the field that does not fit the format.
std::string FormatMarketName(const MarketName& name);

// Parses a base name (a directory part is ignored); throws std::runtime_error quoting the name otherwise.
MarketName ParseMarketName(const std::string& file_name);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_MARKET_NAMING_H_

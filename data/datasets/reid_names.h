// File-name and list-line parsers of the ReID benchmarks, with the field's rules (reference §9).
//
//   gcl::data::MarketName n;
//   if (gcl::data::ParseMarketName("0002_c1s1_000451_03.jpg", &n)) { /* n.pid == 2, n.camera == 1 */ }
//
// Parsers never throw and never crash on any input: they return false for names that do not match, so that a
// loader can count the bad names and report the first ones. Cameras are returned as written in the name (1-based);
// the loaders make them 0-based. Use the loaders in reid_dataset.h unless you only need to read names.
#ifndef GCL_DATA_DATASETS_REID_NAMES_H_
#define GCL_DATA_DATASETS_REID_NAMES_H_

#include <string>
#include <string_view>

namespace gcl::data {

// Market-1501 and DukeMTMC-reID: the first run of [-0-9] characters followed by "_c<digit>" gives pid and camera,
// exactly as the regex search `([-\d]+)_c(\d)` used by the reference and by torchreid / fast-reid.
// pid -1 marks junk, pid 0 ("0000") distractors. A run that is not an integer ("1-2", "--1") or a camera digit 0
// makes the name unparsable (the reference would crash on the former).
struct MarketName {
  int pid = 0;
  int camera = 0;  // as written: 1..9
};
bool ParseMarketName(std::string_view file_name, MarketName* out);

// Writes the Market-1501 name `PPPP_cCsS_FFFFFF_DD.jpg` (pid -1 is written "-1"); ParseMarketName reads it back.
std::string FormatMarketName(int pid, int camera, int sequence, int frame, int box);

// MSMT17: the basename `PPPP_III_CC_<date><time>_FFFF_X.jpg`; the regex `([-\d]+)_([-\d]+)_([-\d]+)` gives pid
// (group 1) and camera (group 3, 1..15 as written).
struct MsmtName {
  int pid = 0;
  int camera = 0;  // as written: 1-based
};
bool ParseMsmtName(std::string_view file_name, MsmtName* out);

// Writes an MSMT17 basename; ParseMsmtName reads it back.
std::string FormatMsmtName(int pid, int index, int camera, std::string_view date_time, int frame, int box);

// One line of an MSMT17 list file (`list_train.txt`, V1 and V2 alike): "<pid folder>/<file name> <label>".
struct MsmtListLine {
  std::string relative_path;  // "0000/0000_000_01_0303morning_0015_0.jpg", relative to the split's image folder
  int label = 0;              // the pid the benchmark assigns (0-based within the list's split)
};
bool ParseMsmtListLine(std::string_view line, MsmtListLine* out);

// Parses a whole decimal integer with an optional leading '-' (no sign-only, no overflow); used by the parsers.
bool ParseInt(std::string_view text, int* out);

}  // namespace gcl::data

#endif  // GCL_DATA_DATASETS_REID_NAMES_H_

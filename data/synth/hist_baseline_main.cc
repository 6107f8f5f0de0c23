// Colour-histogram re-identification baseline on a Market-layout dataset's test split (query vs
// bounding_box_test), reporting mAP and CMC with the Market protocol. Calibrates the synthetic world.
//
//   bazel run //data/synth:hist_baseline -- --data /data/synth_quick
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include "common/user_path.h"
#include "data/synth/hist_matcher.h"

int main(int argc, char** argv) {
  std::string data;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("usage: hist_baseline --data DIR   (a synthetic world or any Market-1501-layout folder)\n");
      return 0;
    }
    if (arg.rfind("--data=", 0) == 0) data = arg.substr(7);
    else if (arg == "--data" && i + 1 < argc) data = argv[++i];
    else {
      std::fprintf(stderr, "hist_baseline: unknown argument %s\nusage: hist_baseline --data DIR\n", arg.c_str());
      return 2;
    }
  }
  if (data.empty()) {
    std::fprintf(stderr, "usage: hist_baseline --data DIR\n");
    return 2;
  }
  data = gcl::UserPath(data);
  try {
    const gcl::clustering::ReidMetrics m = gcl::data::EvaluateHistogramBaseline(data);
    std::printf("colour-histogram baseline on %s: %d valid queries, mAP %.1f%%, rank-1 %.1f%%, rank-5 %.1f%%, "
                "rank-10 %.1f%%\n",
                data.c_str(), static_cast<int>(m.num_valid_queries), 100 * m.map, 100 * m.Rank(1), 100 * m.Rank(5),
                100 * m.Rank(10));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hist_baseline: %s\n", e.what());
    return 1;
  }
}

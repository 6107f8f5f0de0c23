// Colour-histogram re-identification baseline on a Market-layout dataset's test split (query vs
// bounding_box_test), reporting mAP and CMC with the Market protocol. Calibrates the synthetic world.
//
//   bazel run //data/synth:hist_baseline -- --data /data/synth_quick
#include <cstdio>
#include <string>

#include "common/flags.h"
#include "common/user_path.h"
#include "data/synth/hist_matcher.h"

int main(int argc, char** argv) {
  return gcl::RunCommand("hist_baseline", 1, [&]() -> int {
    std::string data;
    gcl::FlagSet flags("hist_baseline", "hist_baseline --data=DIR",
                       "The colour-histogram matcher used to calibrate the synthetic world's difficulty.");
    flags.String("data", &data, "DIR", "a synthetic world or any Market-1501-layout folder").Required();
    if (!flags.Parse(argc, argv)) return 0;
    data = gcl::UserPath(data);
    const gcl::clustering::ReidMetrics m = gcl::data::EvaluateHistogramBaseline(data);
    std::printf("colour-histogram baseline on %s: %d valid queries, mAP %.1f%%, rank-1 %.1f%%, rank-5 %.1f%%, "
                "rank-10 %.1f%%\n",
                data.c_str(), static_cast<int>(m.num_valid_queries), 100 * m.map, 100 * m.Rank(1), 100 * m.Rank(5),
                100 * m.Rank(10));
    return 0;
  });
}

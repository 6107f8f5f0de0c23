// Colour-histogram re-identification baselines on a Market-layout dataset's test split (query vs
// bounding_box_test): mAP and CMC with the Market protocol for every named descriptor
// (evaluation/hist_matcher.h), the strongest marked. They calibrate the synthetic world and are the bar a learned
// model must clear.
//
//   bazel run //evaluation:hist_baseline -- --data /data/synth_quick
#include <cstdio>
#include <string>

#include "evaluation/reid_metrics.h"
#include "common/flags.h"
#include "common/user_path.h"
#include "evaluation/hist_matcher.h"

int main(int argc, char** argv) {
  return gcl::RunCommand("hist_baseline", 1, [&]() -> int {
    std::string data;
    gcl::FlagSet flags("hist_baseline", "hist_baseline --data=DIR",
                       "Colour-histogram matchers (no learning): the bar a learned model must clear.");
    flags.String("data", &data, "DIR", "a synthetic world or any Market-1501-layout folder").Required();
    if (!flags.Parse(argc, argv)) return 0;
    data = gcl::UserPath(data);
    std::printf("colour-histogram baselines on %s (no learning):\n", data.c_str());
    std::printf("  %-20s %7s %7s %7s %7s\n", "descriptor", "mAP", "rank-1", "rank-5", "rank-10");
    double best_map = -1.0;
    std::string best;
    for (const gcl::evaluation::HistogramDescriptor& d : gcl::evaluation::NamedHistogramDescriptors()) {
      const gcl::evaluation::ReidMetrics m = gcl::evaluation::EvaluateHistogramBaseline(data, d);
      std::printf("  %-20s %6.1f%% %6.1f%% %6.1f%% %6.1f%%   (%d valid queries)\n", d.name.c_str(), 100 * m.map,
                  100 * m.Rank(1), 100 * m.Rank(5), 100 * m.Rank(10), static_cast<int>(m.num_valid_queries));
      if (m.map > best_map) best_map = m.map, best = d.name;
    }
    std::printf("strongest: %s, mAP %.1f%%\n", best.c_str(), 100 * best_map);
    return 0;
  });
}

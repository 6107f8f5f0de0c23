#include "training/run_outputs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/atomic_file.h"
#include "common/json.h"
#include "training/train_config.h"

namespace gcl::training {

EvalRecord MakeEvalRecord(const evaluation::ReidMetrics& metrics, proto::Phase phase, int64_t epoch) {
  EvalRecord e;
  e.phase = phase;
  e.epoch = epoch;
  e.map = metrics.map;
  e.minp = metrics.minp;
  for (int k = 1; k <= 10; ++k) e.cmc.push_back(metrics.Rank(k));
  return e;
}
namespace {

namespace fs = std::filesystem;

std::string Fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string Duration(double seconds) {
  const int64_t s = std::max<int64_t>(0, std::llround(seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(s / 3600), static_cast<int>(s / 60 % 60),
                static_cast<int>(s % 60));
  return buf;
}

std::string EvalJson(const EvalRecord& e) {
  auto rank = [&](size_t k) { return k <= e.cmc.size() ? JsonNumber(e.cmc[k - 1]) : std::string("null"); };
  return JsonObject()
      .Number("mAP", e.map)
      .Raw("rank1", rank(1))
      .Raw("rank5", rank(5))
      .Raw("rank10", rank(10))
      .Number("mINP", e.minp)
      .str();
}

EvalRecord FromReport(const proto::EpochSummary& s, const RunRecorder& recorder) {
  std::optional<EvalRecord> r = recorder.FindEval(s.phase(), s.epoch());
  if (r) return *r;
  EvalRecord e;  // evaluated in an earlier process of a resumed run: from the checkpoint's history
  e.phase = s.phase();
  e.epoch = s.epoch();
  e.map = s.eval().mean_ap();
  e.minp = s.eval().has_mean_inp() ? s.eval().mean_inp() : std::nan("");
  e.cmc.assign(s.eval().cmc().begin(), s.eval().cmc().end());
  return e;
}

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  WriteFileAtomically(path, text);
}

}  // namespace

std::string PhaseName(proto::Phase phase) {
  switch (phase) {
    case proto::PHASE_WARMUP:
      return "warmup";
    case proto::PHASE_GAN_WARMUP:
      return "gan_warmup";
    case proto::PHASE_JOINT:
      return "joint";
    case proto::PHASE_DONE:
      return "done";
    default:
      return "unspecified";
  }
}

RunRecorder::RunRecorder(std::string run_dir, int64_t estimated_steps, double progress_interval_s, bool interactive)
    : run_dir_(std::move(run_dir)),
      estimated_steps_(std::max<int64_t>(1, estimated_steps)),
      interval_(progress_interval_s),
      interactive_(interactive),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::hours(1)) {}

void RunRecorder::SetStepsDone(int64_t steps) {
  std::lock_guard<std::mutex> lock(mu_);
  steps_ = steps_at_start_ = phase_start_steps_ = steps;
  estimated_steps_ = std::max(estimated_steps_, steps + 1);
}

void RunRecorder::SetJointEpochs(int64_t epochs) {
  std::lock_guard<std::mutex> lock(mu_);
  joint_epochs_ = epochs;
}

void RunRecorder::Step(proto::Phase phase, int64_t epoch, int64_t batch, int64_t batches_in_epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (phase != phase_) {
    phase_ = phase;
    phase_start_ = now;
    phase_start_steps_ = steps_;
  }
  if (phase == proto::PHASE_JOINT && batch == 0 && joint_epochs_ > 0) {
    estimated_steps_ = std::max<int64_t>(1, steps_ + batches_in_epoch * std::max<int64_t>(1, joint_epochs_ - epoch));
  }
  ++steps_;
  const bool epoch_end = batch + 1 >= batches_in_epoch;
  if (std::chrono::duration<double>(now - last_draw_).count() < interval_ && !epoch_end) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = (steps_ - steps_at_start_) / std::max(elapsed, 1e-9);
  // The phase's own rate once it has a few steps behind it; the whole run's before.
  const double phase_elapsed = std::chrono::duration<double>(now - phase_start_).count();
  const int64_t phase_steps = steps_ - phase_start_steps_;
  const double eta_rate = phase_steps >= 3 && phase_elapsed > 0 ? phase_steps / phase_elapsed : rate;
  const double left = std::max<int64_t>(0, estimated_steps_ - steps_) / std::max(eta_rate, 1e-9);
  const double fraction = std::min(1.0, static_cast<double>(steps_) / estimated_steps_);
  const int width = 24;
  const int filled = static_cast<int>(fraction * width);
  std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
  std::ostringstream line;
  line << bar << " " << std::setw(3) << static_cast<int>(fraction * 100) << "% " << PhaseName(phase) << " epoch "
       << epoch << " batch " << batch + 1 << "/" << batches_in_epoch << "  " << Fixed(rate, 2) << " it/s  elapsed "
       << Duration(elapsed) << "  ETA " << Duration(left);
  if (interactive_) {
    std::fprintf(stderr, "\r%s\033[K", line.str().c_str());
    line_open_ = true;
  } else if (epoch_end) {
    std::fprintf(stderr, "%s\n", line.str().c_str());
  }
  std::fflush(stderr);
}

void RunRecorder::FinishLine() {
  std::lock_guard<std::mutex> lock(mu_);
  if (line_open_) std::fprintf(stderr, "\n");
  line_open_ = false;
}

void RunRecorder::AddEval(const EvalRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  evals_.push_back(record);
}

void RunRecorder::AddClusters(const ClusterRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  clusters_.push_back(record);
}

std::optional<EvalRecord> RunRecorder::FindEval(proto::Phase phase, int64_t epoch) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = evals_.rbegin(); it != evals_.rend(); ++it) {
    if (it->phase == phase && it->epoch == epoch) return *it;
  }
  return std::nullopt;
}

void RunRecorder::AddReference(const ReferenceRecord& record) {
  std::lock_guard<std::mutex> lock(mu_);
  references_.push_back(record);
}

void RunRecorder::AddNote(const std::string& note) {
  std::lock_guard<std::mutex> lock(mu_);
  notes_.push_back(note);
}

std::vector<std::string> RunRecorder::Notes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notes_;
}

std::vector<ReferenceRecord> RunRecorder::References() const {
  std::lock_guard<std::mutex> lock(mu_);
  return references_;
}

std::vector<ClusterRecord> RunRecorder::Clusters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return clusters_;
}

std::vector<EvalRecord> RunRecorder::Evals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return evals_;
}

std::string MetricsJsonl(const proto::RunReport& report, const RunRecorder& recorder) {
  const std::vector<ClusterRecord> clusters = recorder.Clusters();
  std::string out;
  for (const proto::EpochSummary& s : report.history()) {
    JsonObject line;
    line.String("phase", PhaseName(s.phase())).Int("epoch", s.epoch()).Int("steps", s.steps());
    std::vector<std::pair<std::string, double>> losses(s.mean_losses().begin(), s.mean_losses().end());
    std::sort(losses.begin(), losses.end());
    JsonObject loss_object;
    for (const auto& [name, value] : losses) loss_object.Number(name, value);
    line.Raw("losses", loss_object.str());
    int64_t n_clusters = s.num_clusters(), n_outliers = s.num_outliers();
    bool have_clusters = s.phase() == proto::PHASE_JOINT;
    double precision = std::nan(""), recall = std::nan("");
    for (const ClusterRecord& c : clusters) {
      if (c.phase != s.phase() || c.epoch != s.epoch()) continue;
      if (s.phase() == proto::PHASE_WARMUP) {
        n_clusters = c.clusters;
        n_outliers = c.outliers;
        have_clusters = true;
      }
      precision = c.label_precision;
      recall = c.label_recall;
    }
    if (have_clusters) {
      line.Int("clusters", n_clusters).Int("outliers", n_outliers);
      // null where unknown (no true identities, or a pass of an earlier process of a resumed run)
      line.Number("label_precision", precision).Number("label_recall", recall);
    }
    line.Raw("eval", s.has_eval() ? EvalJson(FromReport(s, recorder)) : std::string("null"));
    line.Number("seconds", s.seconds())
        .Number("seconds_per_step", s.steps() > 0 ? s.seconds() / s.steps() : 0.0)
        .Number("seconds_waiting_for_batches", s.seconds_waiting_for_batches())
        .Number("seconds_waiting_for_labels", s.seconds_waiting_for_labels())
        .Int("skipped_files", s.skipped_files());
    out += line.str() + "\n";
  }
  return out;
}

FinalTable MakeFinalTable(const proto::RunReport& report, const RunRecorder& recorder) {
  FinalTable t;
  for (const proto::EpochSummary& s : report.history()) {
    if (!s.has_eval()) continue;
    const EvalRecord e = FromReport(s, recorder);
    if (s.phase() != proto::PHASE_JOINT) {
      t.baseline = e;  // the evaluation before stage 3 (§8): E_id as stage 1 left it
      continue;
    }
    t.last = e;
    if (!t.best || e.map > t.best->map) t.best = e;
  }
  return t;
}

void WritePlot(const std::string& path, const std::string& title, const std::string& x_label,
               const std::vector<PlotSeries>& series) {
  const int w = 640, h = 400, left = 60, right = 20, top = 40, bottom = 50;
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const PlotSeries& s : series) {
    for (const auto& [x, y] : s.points) {
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-9) x1 = x0 + 1;
  if (y1 - y0 < 1e-9) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  auto px = [&](double x) { return left + static_cast<int>((x - x0) / (x1 - x0) * (w - left - right)); };
  auto py = [&](double y) { return h - bottom - static_cast<int>((y - y0) / (y1 - y0) * (h - top - bottom)); };
  const cv::Scalar black(0, 0, 0), grey(210, 210, 210);
  for (int k = 0; k <= 5; ++k) {
    const double y = y0 + (y1 - y0) * k / 5.0;
    cv::line(img, {left, py(y)}, {w - right, py(y)}, grey, 1);
    std::ostringstream label;
    label << std::setprecision(3) << y;
    cv::putText(img, label.str(), {4, py(y) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black, 1, cv::LINE_AA);
  }
  cv::rectangle(img, {left, top}, {w - right, h - bottom}, black, 1);
  const int x_ticks = static_cast<int>(std::min(10.0, x1 - x0));
  for (int k = 0; k <= x_ticks; ++k) {
    const double x = x0 + (x1 - x0) * k / std::max(1, x_ticks);
    std::ostringstream label;
    label << std::setprecision(3) << x;
    cv::putText(img, label.str(), {px(x) - 6, h - bottom + 16}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black, 1, cv::LINE_AA);
  }
  cv::putText(img, title, {left, 24}, cv::FONT_HERSHEY_SIMPLEX, 0.6, black, 1, cv::LINE_AA);
  cv::putText(img, x_label, {w / 2 - 40, h - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black, 1, cv::LINE_AA);
  const cv::Scalar colours[] = {{200, 80, 30}, {30, 120, 230}, {40, 160, 40}, {160, 40, 160}};
  for (size_t i = 0; i < series.size(); ++i) {
    const cv::Scalar c = colours[i % 4];
    const auto& pts = series[i].points;
    for (size_t k = 0; k < pts.size(); ++k) {
      const cv::Point p(px(pts[k].first), py(pts[k].second));
      cv::circle(img, p, 3, c, cv::FILLED, cv::LINE_AA);
      if (k > 0) cv::line(img, {px(pts[k - 1].first), py(pts[k - 1].second)}, p, c, 2, cv::LINE_AA);
    }
    const int ly = top + 16 + 16 * static_cast<int>(i);
    cv::line(img, {w - right - 150, ly - 4}, {w - right - 130, ly - 4}, c, 2);
    cv::putText(img, series[i].name, {w - right - 125, ly}, cv::FONT_HERSHEY_SIMPLEX, 0.42, black, 1, cv::LINE_AA);
  }
  fs::create_directories(fs::path(path).parent_path());
  if (!cv::imwrite(path, img)) throw std::runtime_error(path + ": cannot write the plot");
}

void WriteRunOutputs(const std::string& run_dir, const proto::TrainConfig& config, const proto::RunReport& report,
                     const RunRecorder& recorder, double wall_seconds) {
  WriteText(run_dir + "/metrics.jsonl", MetricsJsonl(report, recorder));

  // Plots over the epochs of the whole run (x = epoch number counted across phases).
  PlotSeries map{"mAP", {}}, rank1{"rank-1", {}}, clusters{"clusters", {}}, outliers{"outliers", {}};
  const std::vector<ClusterRecord> warm = recorder.Clusters();
  for (int i = 0; i < report.history_size(); ++i) {
    const proto::EpochSummary& s = report.history(i);
    const double x = i + 1;
    if (s.has_eval()) {
      const EvalRecord e = FromReport(s, recorder);
      map.points.emplace_back(x, 100 * e.map);
      if (!e.cmc.empty()) rank1.points.emplace_back(x, 100 * e.cmc[0]);
    }
    if (s.phase() == proto::PHASE_JOINT) {
      clusters.points.emplace_back(x, s.num_clusters());
      outliers.points.emplace_back(x, s.num_outliers());
    }
    for (const ClusterRecord& c : warm) {
      if (s.phase() == proto::PHASE_WARMUP && c.phase == proto::PHASE_WARMUP && c.epoch == s.epoch()) {
        clusters.points.emplace_back(x, c.clusters);
        outliers.points.emplace_back(x, c.outliers);
      }
    }
  }
  WritePlot(run_dir + "/plots/map.png", "test mAP (%)", "epoch of the run (all stages)", {map});
  WritePlot(run_dir + "/plots/rank1.png", "test rank-1 (%)", "epoch of the run (all stages)", {rank1});
  WritePlot(run_dir + "/plots/clusters.png", "pseudo-label clusters and outliers", "epoch of the run (all stages)",
            {clusters, outliers});
  // Pairwise precision / recall of each clustering pass, x as above (a pass is drawn at the epoch it labels).
  PlotSeries precision{"pairwise precision", {}}, recall{"pairwise recall", {}};
  for (int i = 0; i < report.history_size(); ++i) {
    const proto::EpochSummary& s = report.history(i);
    for (const ClusterRecord& c : warm) {
      if (c.phase != s.phase() || c.epoch != s.epoch() || !std::isfinite(c.label_precision)) continue;
      precision.points.emplace_back(i + 1, 100 * c.label_precision);
      recall.points.emplace_back(i + 1, 100 * c.label_recall);
    }
  }
  if (!precision.points.empty()) {
    WritePlot(run_dir + "/plots/label_quality.png", "pseudo labels vs true identities (%, diagnosis only)",
              "epoch of the run (all stages)", {precision, recall});
  }

  const FinalTable t = MakeFinalTable(report, recorder);
  auto row_md = [](const std::string& name, const std::optional<EvalRecord>& e) {
    if (!e) return "| " + name + " | n/a | n/a | n/a | n/a | n/a |\n";
    auto pct = [](double v) { return std::isfinite(v) ? Fixed(100 * v, 1) : std::string("n/a"); };
    auto rank = [&](size_t k) { return k <= e->cmc.size() ? pct(e->cmc[k - 1]) : std::string("n/a"); };
    return "| " + name + " | " + pct(e->map) + " | " + rank(1) + " | " + rank(5) + " | " + rank(10) + " | " +
           pct(e->minp) + " |\n";
  };
  const proto::RunConfig& run = config.run();
  std::ostringstream md;
  md << "# Run `" << run.name() << "`\n\n";
  // UDA mode (warmup.mode SUPERVISED_SOURCE): E_id before stage 3 is the source-trained model, so the baseline
  // row is the "direct transfer" result on the target.
  const bool uda = config.warmup().mode() == proto::WarmupConfig::SUPERVISED_SOURCE;
  auto describe = [](const proto::DataConfig& d) {
    std::string text = d.dataset();
    if (d.dataset() == "synthetic") {
      text += " (preset " + d.synthetic_preset() + ", seed " + std::to_string(d.synthetic_seed()) + ")";
    }
    return text;
  };
  if (uda) {
    md << "UDA: stage 1 supervised on the labelled source " << describe(config.source())
       << "; stages 2 and 3 and every evaluation on the unlabelled target " << describe(config.data());
  } else {
    md << "Dataset: " << describe(config.data());
  }
  md << "; input " << config.data().height() << "x" << config.data().width() << "; E_id ";
  const proto::ModelConfig& m = config.model();
  if (m.backbone() == "mobilenet_v2") {
    md << "MobileNetV2 width " << m.mobilenet_width() << " (batch norm " << m.backbone_batch_norm() << ")"
       << (m.identity_init().empty() ? std::string() : " from " + m.identity_init());
  } else {
    md << "ResNet-" << m.depth() << " width " << m.width();
  }
  md << "; epochs: stage 1 " << run.warmup_epochs() << ", stage 2 "
     << run.gan_warmup_epochs() << ", stage 3 " << run.joint_epochs() << "; ablation "
     << proto::AblationConfig::JointMode_Name(config.ablation().joint_mode()) << ".\n\n";
  md << (report.completed() ? "The run completed" : "The run STOPPED: " + report.error()) << " after "
     << report.global_step() << " steps; this process ran " << Duration(wall_seconds) << ".\n\n";
  md << "Test split (query vs gallery), the same for every row. mAP, CMC and mINP in %.\n\n";
  md << "| model | mAP | rank-1 | rank-5 | rank-10 | mINP |\n|---|---|---|---|---|---|\n";
  md << row_md(uda ? "direct transfer (E_id after stage 1 on the source)" : "warm-up baseline (E_id after stage 1)",
               t.baseline);
  md << row_md("GCL (after stage 3, last epoch)", t.last);
  if (t.best && t.last && t.best->epoch != t.last->epoch) {
    md << row_md("GCL (best stage-3 epoch " + std::to_string(t.best->epoch) + " by test mAP, reference §7)", t.best);
  }
  const std::vector<ReferenceRecord> references = recorder.References();
  std::optional<ReferenceRecord> strongest;  // the best non-learned descriptor on the test split
  for (const ReferenceRecord& r : references) {
    if (r.split == "test" && !r.learned && (!strongest || r.metrics.map > strongest->metrics.map)) strongest = r;
  }
  for (const ReferenceRecord& r : references) {
    if (r.split == "test") md << row_md(r.model + " (no learning)", r.metrics);
  }
  if (strongest && t.last && strongest->metrics.map > 0) {
    md << "\nGCL (last epoch) reaches " << Fixed(t.last->map / strongest->metrics.map, 2)
       << "x the mAP of the strongest colour histogram (" << strongest->model << ")";
    if (t.baseline) md << " and " << Fixed(100 * (t.last->map - t.baseline->map), 1) << " mAP points over its warm-up baseline";
    md << ".\n";
  }
  std::vector<std::string> other_splits;
  for (const ReferenceRecord& r : references) {
    if (r.split != "test" && std::find(other_splits.begin(), other_splits.end(), r.split) == other_splits.end()) {
      other_splits.push_back(r.split);
    }
  }
  for (const std::string& split : other_splits) {
    md << "\nThe same models on the " << split << " split (a check only: nothing is chosen on it).\n\n";
    md << "| model | mAP | rank-1 | rank-5 | rank-10 | mINP |\n|---|---|---|---|---|---|\n";
    for (const ReferenceRecord& r : references) {
      if (r.split == split) md << row_md(r.model + (r.learned ? "" : " (no learning)"), r.metrics);
    }
  }
  for (const std::string& note : recorder.Notes()) md << "\nNote: " << note << "\n";
  bool have_quality = false;
  for (const ClusterRecord& c : recorder.Clusters()) have_quality |= std::isfinite(c.label_precision);
  if (have_quality) {
    md << "\nPseudo labels of every clustering pass against the train split's true identities (a diagnosis: "
          "training never sees them). Pairwise precision: the share of pairs put in one cluster that are one "
          "person; recall: the share of same-person pairs put in one cluster (`plots/label_quality.png`).\n\n";
    md << "| stage | epoch | clusters | outliers | eps | precision | recall |\n|---|---|---|---|---|---|---|\n";
    for (const ClusterRecord& c : recorder.Clusters()) {
      if (!std::isfinite(c.label_precision)) continue;
      md << "| " << (c.phase == proto::PHASE_WARMUP ? "1" : "3") << " | " << c.epoch << " | " << c.clusters << " | "
         << c.outliers << " | " << Fixed(c.eps, 3) << " | " << Fixed(100 * c.label_precision, 1) << "% | "
         << Fixed(100 * c.label_recall, 1) << "% |\n";
    }
  }
  md << "\nFiles: `metrics.jsonl` (per epoch), `plots/`, `views/` (novel views at the 8 render angles), `export/` "
        "(E_id for `//:search` and `//tools/extract`), `checkpoints/`, `config.pbtxt` (the effective config).\n";
  if (report.failures_size() > 0) {
    md << "\nFailures seen during the run:\n\n";
    for (const proto::Failure& f : report.failures()) {
      md << "- " << f.actor() << " (" << PhaseName(f.phase()) << " epoch " << f.epoch() << ", "
         << (f.recoverable() ? "recovered" : "fatal") << "): " << f.cause() << "\n";
    }
  }
  WriteText(run_dir + "/report.md", md.str());

  auto row_json = [](const std::optional<EvalRecord>& e) {
    if (!e) return std::string("null");
    return JsonObject().String("phase", PhaseName(e->phase)).Int("epoch", e->epoch).Raw("metrics", EvalJson(*e)).str();
  };
  std::vector<std::string> reference_rows;
  for (const ReferenceRecord& r : references) {
    reference_rows.push_back(JsonObject()
                                 .String("split", r.split)
                                 .String("model", r.model)
                                 .Bool("learned", r.learned)
                                 .Raw("metrics", EvalJson(r.metrics))
                                 .str());
  }
  JsonObject summary;
  summary.String("run", run.name()).Bool("completed", report.completed());
  if (report.completed()) {
    summary.Null("error");
  } else {
    summary.String("error", report.error());
  }
  summary.String("setting", uda ? "uda" : "unsupervised")
      .Int("global_step", report.global_step())
      .Number("wall_seconds", wall_seconds)
      .Raw("baseline", row_json(t.baseline))
      .Raw("gcl_last", row_json(t.last))
      .Raw("gcl_best", row_json(t.best))
      .Raw("references", JsonArray(reference_rows, /*one_value_per_line=*/true));
  WriteText(run_dir + "/summary.json", summary.str(/*one_member_per_line=*/true) + "\n");
}

}  // namespace gcl::training

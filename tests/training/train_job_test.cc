// The "train" job kind without workers: jobs built from presets and overrides, job list files, the worker's
// refusal of bad payloads, and the coordinator's gathered report (final numbers, statuses, markdown, JSON).
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "actors/protocol.h"
#include "tests/support/temp_dir.h"
#include "training/train_job.h"

namespace gcl::training {
namespace {

namespace fs = std::filesystem;

using testing_support::FreshTestDir;

std::string ThrownMessage(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

proto::EpochSummary Epoch(proto::Phase phase, int64_t epoch, double map, double rank1) {
  proto::EpochSummary s;
  s.set_phase(phase);
  s.set_epoch(epoch);
  s.mutable_eval()->set_mean_ap(map);
  s.mutable_eval()->add_cmc(rank1);
  s.mutable_eval()->add_cmc(std::min(1.0, rank1 + 0.1));
  return s;
}

TEST(TrainJobTest, MakeTrainJobLoadsThePresetNamesTheRunAndAppliesTheOverridesInOrder) {
  const proto::JobSpec spec =
      MakeTrainJob({"world2", "tiny", {"data.synthetic_seed=7", "run.joint_epochs=3", "data.synthetic_seed=2"}}, "");
  EXPECT_EQ(spec.job_id(), "world2");
  EXPECT_EQ(spec.kind(), "train");
  EXPECT_EQ(spec.attempt(), 1);
  EXPECT_EQ(spec.version(), actors::kActorProtocolVersion);
  proto::TrainJob job;
  ASSERT_TRUE(job.ParseFromString(spec.payload()));
  EXPECT_EQ(job.version(), kTrainJobVersion);
  EXPECT_EQ(job.config().run().name(), "world2");
  EXPECT_EQ(job.config().run().joint_epochs(), 3);
  EXPECT_EQ(job.config().data().synthetic_seed(), 2u);
  EXPECT_EQ(job.config().data().synthetic_preset(), "tiny");
  // Unresolved: defaults that depend on the worker's machine stay empty for the worker to fill in.
  EXPECT_TRUE(job.config().data().cache_dir().empty());
}

TEST(TrainJobTest, MakeTrainJobErrorsNameTheJob) {
  EXPECT_NE(ThrownMessage([] { MakeTrainJob({"a", "tiny", {"run.no_such_field=1"}}, ""); }).find("job 'a': "),
            std::string::npos);
  EXPECT_NE(ThrownMessage([] { MakeTrainJob({"b", "tiny", {"optim.identity_lr=-1"}}, ""); }).find("identity_lr"),
            std::string::npos);
  EXPECT_NE(ThrownMessage([] { MakeTrainJob({"c", "no_such_preset", {}}, ""); }).find("no_such_preset"),
            std::string::npos);
  EXPECT_NE(ThrownMessage([] { MakeTrainJob({"../x", "tiny", {}}, ""); }).find("must not contain '/'"),
            std::string::npos);
}

TEST(TrainJobTest, JobFileEntriesTakeTheDefaultConfigAndRejectRepeatedNames) {
  const fs::path dir = FreshTestDir("job_file");
  {
    std::ofstream(dir / "jobs.pbtxt") << "job { name: \"market\" set: \"data.synthetic_seed=1\" }\n"
                                         "job { name: \"duke\" config: \"quick\" set: \"a=1\" set: \"b=2\" }\n";
    std::ofstream(dir / "twice.pbtxt") << "job { name: \"x\" }\njob { name: \"x\" }\n";
    std::ofstream(dir / "bad.pbtxt") << "job { nme: \"x\" }\n";
  }
  const std::vector<TrainJobRequest> jobs = LoadTrainJobFile((dir / "jobs.pbtxt").string(), "tiny");
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].name, "market");
  EXPECT_EQ(jobs[0].config, "tiny");
  EXPECT_EQ(jobs[0].sets, std::vector<std::string>{"data.synthetic_seed=1"});
  EXPECT_EQ(jobs[1].config, "quick");
  EXPECT_EQ(jobs[1].sets, (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_NE(ThrownMessage([&] { LoadTrainJobFile((dir / "twice.pbtxt").string(), "tiny"); }).find("'x' repeats"),
            std::string::npos);
  EXPECT_NE(ThrownMessage([&] { LoadTrainJobFile((dir / "bad.pbtxt").string(), "tiny"); }).find("bad.pbtxt"),
            std::string::npos);
}

TEST(TrainJobTest, WorkerRefusesPayloadsItCannotRun) {
  EXPECT_NE(ThrownMessage([] { RunTrainJob("\xff\xff not a proto", {"/tmp", {}}, 1); }).find("not a TrainJob"),
            std::string::npos);
  proto::TrainJob job;
  job.set_version(kTrainJobVersion + 1);
  EXPECT_NE(ThrownMessage([&] { RunTrainJob(job.SerializeAsString(), {"/tmp", {}}, 1); }).find("TrainJob.version"),
            std::string::npos);
  job.set_version(kTrainJobVersion);
  // An empty config does not resolve (no epochs): the worker's ResolveTrainConfig names the field.
  const std::string bad_config = ThrownMessage([&] { RunTrainJob(job.SerializeAsString(), {"/tmp", {}}, 1); });
  EXPECT_NE(bad_config.find("joint_epochs"), std::string::npos) << bad_config;
}

// A job's config as a coordinator sends it and as the worker resolves it (only the fields the check reads).
proto::TrainConfig Job(const std::string& name) {
  proto::TrainConfig config;
  config.mutable_run()->set_name(name);
  config.mutable_run()->set_output_dir("runs");
  return config;
}

TEST(TrainJobTest, WorkerKeepsEveryJobInsideItsFolders) {
  const fs::path base = FreshTestDir("worker_limits");
  const fs::path work = base / "work", data = base / "data", elsewhere = base / "elsewhere";
  for (const fs::path& d : {work, data / "market", elsewhere}) fs::create_directories(d);
  fs::create_directory_symlink(elsewhere, work / "link_out");  // inside by name, outside in fact
  const TrainWorkerLimits limits{work.string(), {data.string()}};
  auto refusal = [&](const proto::TrainConfig& config) {
    return ThrownMessage([&] { CheckTrainJobOnWorker(config, config, limits); });
  };
  EXPECT_EQ(refusal(Job("market")), "");
  proto::TrainConfig ok = Job("market");
  ok.mutable_data()->set_root((data / "market").string());
  ok.mutable_data()->set_cache_dir("cache");  // relative: inside --work_dir
  ok.mutable_model()->set_identity_init((data / "jvtc.pth").string());
  EXPECT_EQ(refusal(ok), "");

  for (const std::string name : {"a/b", "..", ".", ""}) {
    EXPECT_NE(refusal(Job(name)).find("one plain folder name"), std::string::npos) << "'" << name << "'";
  }
  proto::TrainConfig c = Job("market");
  c.mutable_run()->set_output_dir("../escaped");
  EXPECT_NE(refusal(c).find("outside its --work_dir"), std::string::npos) << refusal(c);
  c = Job("market");
  c.mutable_run()->set_output_dir((work / "link_out").string());
  EXPECT_NE(refusal(c).find("outside its --work_dir"), std::string::npos) << refusal(c);
  c = Job("market");
  c.mutable_run()->set_output_dir(data.string());  // a data root is for reading only
  EXPECT_NE(refusal(c).find("outside its --work_dir"), std::string::npos) << refusal(c);

  const std::vector<std::pair<std::string, std::function<void(proto::TrainConfig*)>>> inputs = {
      {"data.root", [](proto::TrainConfig* x) { x->mutable_data()->set_root("/etc"); }},
      {"data.mesh_dir", [&](proto::TrainConfig* x) { x->mutable_data()->set_mesh_dir((work / "link_out").string()); }},
      {"data.cache_dir", [](proto::TrainConfig* x) { x->mutable_data()->set_cache_dir("/var/tmp"); }},
      {"source.root", [&](proto::TrainConfig* x) { x->mutable_source()->set_root((data / ".." / "elsewhere").string()); }},
      {"model.identity_init", [](proto::TrainConfig* x) { x->mutable_model()->set_identity_init("/etc/hostname"); }},
  };
  for (const auto& [field, set] : inputs) {
    proto::TrainConfig x = Job("market");
    set(&x);
    const std::string message = refusal(x);
    EXPECT_NE(message.find(field + " '"), std::string::npos) << message;
    EXPECT_NE(message.find("refused by this worker"), std::string::npos) << message;
  }
}

TEST(TrainJobTest, FinalNumbersFollowTheRulesOfTheTrainReport) {
  proto::RunReport report;
  *report.add_history() = Epoch(proto::PHASE_WARMUP, 0, 0.30, 0.50);
  report.add_history()->set_phase(proto::PHASE_GAN_WARMUP);  // no evaluation
  *report.add_history() = Epoch(proto::PHASE_JOINT, 0, 0.45, 0.60);
  *report.add_history() = Epoch(proto::PHASE_JOINT, 1, 0.40, 0.65);
  proto::TrainJobRow row;
  FillFinalNumbers(report, &row);
  ASSERT_TRUE(row.has_baseline() && row.has_gcl_last() && row.has_gcl_best());
  EXPECT_DOUBLE_EQ(row.baseline().map(), 0.30);
  EXPECT_DOUBLE_EQ(row.baseline().rank1(), 0.50);
  EXPECT_EQ(row.gcl_last().epoch(), 1);
  EXPECT_DOUBLE_EQ(row.gcl_last().map(), 0.40);
  EXPECT_DOUBLE_EQ(row.gcl_last().rank1(), 0.65);
  EXPECT_EQ(row.gcl_best().epoch(), 0);
  EXPECT_DOUBLE_EQ(row.gcl_best().map(), 0.45);

  proto::TrainJobRow empty;
  FillFinalNumbers(proto::RunReport{}, &empty);
  EXPECT_FALSE(empty.has_baseline() || empty.has_gcl_last() || empty.has_gcl_best());
}

TEST(TrainJobTest, GatheredReportHasARowPerJobInOrderWithItsStatus) {
  proto::ClusterConfig cluster;
  cluster.add_workers("127.0.0.1:1");
  cluster.add_workers("127.0.0.1:2");
  const std::vector<proto::JobSpec> jobs = {
      MakeTrainJob({"done", "tiny", {"data.synthetic_seed=1"}}, ""),
      MakeTrainJob({"stopped", "tiny", {"data.synthetic_seed=2"}}, ""),
      MakeTrainJob({"failed", "tiny", {"data.dataset=market1501", "data.root=/data/m", "data.mesh_dir=/data/mesh"}}, ""),
      MakeTrainJob({"lost", "tiny", {}}, ""),
  };
  proto::JobReport report;
  auto add = [&](const std::string& id, const std::string& worker, int attempt, bool completed) {
    proto::JobResult* r = report.add_results();
    r->set_job_id(id);
    r->set_kind("train");
    r->set_worker(worker);
    r->set_ok(true);
    r->set_attempt(attempt);
    r->set_seconds(4.5);
    proto::TrainJobResult train;
    train.set_version(kTrainJobVersion);
    train.set_run_dir("/w/runs/" + id);
    train.mutable_report()->set_completed(completed);
    if (!completed) train.mutable_report()->set_error("trainer: out of memory");
    train.mutable_report()->set_global_step(12);
    *train.mutable_report()->add_history() = Epoch(proto::PHASE_WARMUP, 0, 0.25, 0.5);
    *train.mutable_report()->add_history() = Epoch(proto::PHASE_JOINT, 0, 0.375, 0.625);
    r->set_payload(train.SerializeAsString());
  };
  add("stopped", "127.0.0.1:1", 1, false);  // results arrive in completion order, rows follow the job list
  add("done", "127.0.0.1:2", 2, true);
  proto::JobResult* failed = report.add_results();
  failed->set_job_id("failed");
  failed->set_worker("127.0.0.1:1");
  failed->set_attempt(1);
  failed->set_ok(false);
  failed->set_error("market1501: no folder /data/m/bounding_box_train");
  report.add_lost_jobs("lost");
  (*report.mutable_lost_job_tries())["lost"] = 2;
  (*report.mutable_lost_job_causes())["lost"] = "127.0.0.1:3 gave no answer within --job_timeout_s=60 s";
  report.add_lost_workers("127.0.0.1:3 (down: unknown)");

  const proto::TrainJobsReport gathered = GatherTrainReport(cluster, jobs, report);
  ASSERT_EQ(gathered.rows_size(), 4);
  EXPECT_EQ(gathered.workers_size(), 2);
  ASSERT_EQ(gathered.lost_workers_size(), 1);
  const proto::TrainJobRow& done = gathered.rows(0);
  EXPECT_EQ(done.job(), "done");
  EXPECT_EQ(done.status(), "done");
  EXPECT_EQ(done.dataset(), "synthetic (tiny world, seed 1)");
  EXPECT_EQ(done.worker(), "127.0.0.1:2");
  EXPECT_EQ(done.attempts(), 2);
  EXPECT_EQ(done.run_dir(), "/w/runs/done");
  EXPECT_EQ(done.global_step(), 12);
  EXPECT_DOUBLE_EQ(done.baseline().map(), 0.25);
  EXPECT_DOUBLE_EQ(done.gcl_last().rank1(), 0.625);
  EXPECT_EQ(gathered.rows(1).status(), "stopped");
  EXPECT_EQ(gathered.rows(1).error(), "trainer: out of memory");
  EXPECT_EQ(gathered.rows(2).status(), "failed");
  EXPECT_EQ(gathered.rows(2).dataset(), "market1501 at /data/m");
  EXPECT_NE(gathered.rows(2).error().find("bounding_box_train"), std::string::npos);
  EXPECT_FALSE(gathered.rows(2).has_baseline());
  EXPECT_EQ(gathered.rows(3).status(), "lost");
  EXPECT_EQ(gathered.rows(3).attempts(), 2);
  EXPECT_TRUE(gathered.rows(3).worker().empty());
  // The real cause, not only "lost": here a timeout.
  EXPECT_NE(gathered.rows(3).error().find("gave no answer within --job_timeout_s=60 s"), std::string::npos)
      << gathered.rows(3).error();

  proto::TrainJobsReport timed = gathered;
  timed.set_seconds(9.06);
  const std::string md = TrainReportMarkdown(timed);
  EXPECT_NE(md.find("4 jobs on 2 workers (127.0.0.1:1, 127.0.0.1:2), 9.1 s wall."), std::string::npos) << md;
  EXPECT_NE(md.find("| done | synthetic (tiny world, seed 1) | 25.0 | 50.0 | 37.5 | 62.5 | 127.0.0.1:2 | 2 | done | "
                    "4.5 s |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| failed | market1501 at /data/m | n/a | n/a | n/a | n/a | 127.0.0.1:1 | 1 | failed |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| lost | synthetic (tiny world, seed 1) | n/a | n/a | n/a | n/a | - | 2 | lost | - |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("127.0.0.1:3 (down: unknown)"), std::string::npos) << md;

  // report.json is the message itself: it parses back to the same report.
  proto::TrainJobsReport parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(TrainReportJson(gathered), &parsed).ok());
  EXPECT_EQ(parsed.SerializeAsString(), gathered.SerializeAsString());
  EXPECT_NE(TrainReportJson(gathered).find("\"gcl_last\""), std::string::npos);
}

TEST(TrainJobTest, WriteTrainReportWritesBothFiles) {
  const fs::path dir = FreshTestDir("write_report") / "nested";
  proto::TrainJobsReport report;
  report.add_rows()->set_job("x");
  WriteTrainReport(dir.string(), report);
  EXPECT_TRUE(fs::exists(dir / "report.json"));
  EXPECT_TRUE(fs::exists(dir / "report.md"));
}

}  // namespace
}  // namespace gcl::training

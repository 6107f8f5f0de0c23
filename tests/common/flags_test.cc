#include "common/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gcl {
namespace {

using ::testing::HasSubstr;

// A command line like train's: a string, a number, a switch, a repeated flag.
struct TrainLike {
  std::string name, config = "quick";
  int threads = 0;
  bool resume = false;
  std::vector<std::string> sets;
  FlagSet flags{"train", "train [flags]"};
  TrainLike() {
    flags.String("name", &name, "NAME", "the run's name");
    flags.String("config", &config, "NAME|FILE", "a preset or a file");
    flags.Int("threads", &threads, "threads").Min(0).Max(4096);
    flags.Bool("resume", &resume, "continue the run");
    flags.List("set", &sets, "FIELD=VALUE", "override one field");
  }
};

std::string ErrorOf(FlagSet& flags, const std::vector<std::string>& args) {
  try {
    flags.Parse(args);
  } catch (const FlagError& e) {
    return e.what();
  }
  return "";
}

TEST(FlagSetTest, BothValueFormsAndSwitches) {
  TrainLike t;
  ASSERT_TRUE(t.flags.Parse({"--name=a", "--config", "tiny", "--threads=2", "--resume", "--set", "x=1", "--set=y=2"}));
  EXPECT_EQ(t.name, "a");
  EXPECT_EQ(t.config, "tiny");
  EXPECT_EQ(t.threads, 2);
  EXPECT_TRUE(t.resume);
  EXPECT_THAT(t.sets, ::testing::ElementsAre("x=1", "y=2"));
  EXPECT_TRUE(t.flags.Given("name"));
  EXPECT_FALSE(TrainLike().flags.Given("name"));
}

// The case: `train --named=foo --threads=1` trained a run named "--threads=1" (prefix matching took
// --named for --name and the next argument as its value).
TEST(FlagSetTest, NamesMatchExactlyNoPrefixes) {
  TrainLike t;
  EXPECT_EQ(ErrorOf(t.flags, {"--named=foo", "--threads=1"}), "unknown flag --named (did you mean --name?)");
  EXPECT_EQ(t.name, "");
  EXPECT_THAT(ErrorOf(t.flags, {"--na=foo"}), HasSubstr("unknown flag --na"));
  EXPECT_THAT(ErrorOf(t.flags, {"--thread=1"}), HasSubstr("did you mean --threads?"));
  EXPECT_EQ(ErrorOf(t.flags, {"--zzz"}), "unknown flag --zzz");
}

TEST(FlagSetTest, ASpacedValueIsNeverTheNextFlag) {
  TrainLike t;
  EXPECT_THAT(ErrorOf(t.flags, {"--name", "--threads=1"}),
              HasSubstr("--name needs a value (--name=NAME); the next argument '--threads=1' is a flag"));
  EXPECT_THAT(ErrorOf(t.flags, {"--name"}), HasSubstr("--name needs a value"));
  TrainLike u;
  ASSERT_TRUE(u.flags.Parse({"--name=--threads=1"})) << "the explicit form takes any value";
  EXPECT_EQ(u.name, "--threads=1");
}

TEST(FlagSetTest, NumbersAreStrictAndNameTheFlag) {
  TrainLike t;
  EXPECT_EQ(ErrorOf(t.flags, {"--threads=abc"}), "--threads=abc: not a whole number");
  EXPECT_EQ(ErrorOf(t.flags, {"--threads", "2x"}), "--threads=2x: not a whole number");
  EXPECT_EQ(ErrorOf(t.flags, {"--threads=-1"}), "--threads=-1: must be >= 0");
  EXPECT_EQ(ErrorOf(t.flags, {"--threads=5000"}), "--threads=5000: must be <= 4096");
  EXPECT_EQ(ErrorOf(t.flags, {"--threads=99999999999"}), "--threads=99999999999: must be <= 4096");
  EXPECT_EQ(ErrorOf(t.flags, {"--threads="}), "--threads=: not a whole number");
  double rho = 0.5;
  FlagSet f("cluster", "cluster [flags]");
  f.Double("rho", &rho, "rho").Min(0).Max(1);
  EXPECT_EQ(ErrorOf(f, {"--rho=nan"}), "--rho=nan: not a finite number");
  EXPECT_EQ(ErrorOf(f, {"--rho=2"}), "--rho=2: must be <= 1");
  EXPECT_EQ(rho, 0.5);
  ASSERT_TRUE(f.Parse({"--rho", "0.25"}));
  EXPECT_EQ(rho, 0.25);
}

TEST(FlagSetTest, UnexpectedArgumentsDuplicatesAndSwitchValues) {
  TrainLike t;
  EXPECT_THAT(ErrorOf(t.flags, {"quick"}), HasSubstr("unexpected argument 'quick'"));
  EXPECT_THAT(ErrorOf(t.flags, {"-name=x"}), HasSubstr("unexpected argument '-name=x'"));
  EXPECT_THAT(ErrorOf(t.flags, {"--"}), HasSubstr("unexpected argument '--'"));
  EXPECT_EQ(ErrorOf(t.flags, {"--name=a", "--name=b"}), "--name is given twice");
  EXPECT_THAT(ErrorOf(t.flags, {"--resume=yes"}), HasSubstr("--resume=yes: not true or false"));
  TrainLike u;
  ASSERT_TRUE(u.flags.Parse({"--resume=false"}));
  EXPECT_FALSE(u.resume);
}

TEST(FlagSetTest, RequiredFlags) {
  std::string model;
  FlagSet f("search", "search --model=FILE");
  f.String("model", &model, "FILE", "an E_id export").Required();
  EXPECT_EQ(ErrorOf(f, {}), "--model is required (--model=FILE: an E_id export)");
  ASSERT_TRUE(f.Parse({"--model=m.safetensors"}));
  EXPECT_EQ(model, "m.safetensors");
}

TEST(FlagSetTest, SequenceKeepsTheOrderAcrossFlags) {
  std::vector<std::pair<std::string, std::string>> order;
  FlagSet f("node", "node [flags]");
  f.Sequence("job", &order, "NAME", "a job");
  f.Sequence("set", &order, "FIELD=VALUE", "an override");
  ASSERT_TRUE(f.Parse({"--set=a=1", "--job=x", "--set", "b=2", "--job=y"}));
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"set", "a=1"}, {"job", "x"}, {"set", "b=2"}, {"job", "y"}};
  EXPECT_EQ(order, expected);
  EXPECT_NO_THROW(f.ExpectOnly({"job", "set"}, "a coordinator"));
  EXPECT_THROW(f.ExpectOnly({"job"}, "a worker"), FlagError);
  try {
    f.ExpectOnly({"job"}, "a worker");
  } catch (const FlagError& e) {
    EXPECT_STREQ(e.what(), "--set is not a flag of a worker");
  }
}

TEST(FlagSetTest, HelpListsEveryFlagWithDefaultsAndRunsNothing) {
  TrainLike t;
  t.threads = 3;
  testing::internal::CaptureStdout();
  EXPECT_FALSE(t.flags.Parse({"--threads=abc", "--help"})) << "--help wins over errors";
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, HasSubstr("usage: train [flags]"));
  EXPECT_THAT(out, HasSubstr("--config=NAME|FILE"));
  EXPECT_THAT(out, HasSubstr("[default quick]"));
  EXPECT_THAT(out, HasSubstr("--threads=N"));
  EXPECT_THAT(out, HasSubstr("0..4096"));
  EXPECT_THAT(out, HasSubstr("--set=FIELD=VALUE"));
  EXPECT_THAT(out, HasSubstr("repeatable"));
  EXPECT_THAT(out, HasSubstr("--help"));
  EXPECT_EQ(t.threads, 3);
  testing::internal::CaptureStdout();
  EXPECT_FALSE(TrainLike().flags.Parse({"-h"}));
  EXPECT_EQ(testing::internal::GetCapturedStdout(), out);
}

TEST(RunCommandTest, StatusAndMessages) {
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCommand("train", 1, []() -> int { throw FlagError("--threads=abc: not a whole number"); }), 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "train: --threads=abc: not a whole number\n(train --help lists the flags)\n");
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunCommand("train", 1, []() -> int { throw std::runtime_error("data.root: missing"); }), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "train: data.root: missing\n");
  EXPECT_EQ(RunCommand("train", 1, [] { return 0; }), 0);
}

}  // namespace
}  // namespace gcl

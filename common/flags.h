// The command-line flags of every program (train, extract, search, generate, cluster, evaluate, node,
// make_dataset, inspect_dataset, hist_baseline, render_demo): one parser, so that every command treats its
// command line the same way.
//
//   std::string model;
//   int top = 10;
//   bool keep = false;
//   gcl::FlagSet flags("search", "search --model=FILE --query=IMAGE --gallery=DIR [flags]");
//   flags.String("model", &model, "FILE", "an E_id export").Required();
//   flags.Int("top", &top, "results to show").Min(1);
//   flags.Bool("keep_same_camera", &keep, "keep same-identity same-camera gallery images");
//   if (!flags.Parse(argc, argv)) return 0;   // --help: the usage went to stdout
//
// Rules (docs/DEVELOPING.md, "Command lines"):
//   - `--name=value` or `--name value`; a boolean flag is `--name` (or `--name=true|false`).
//   - names match exactly: no prefixes, no abbreviations, no single-dash forms. An unknown flag is an error (with
//     the nearest known name as a hint), and so is an argument that is not a flag.
//   - `--name value` never takes a value that starts with "--": `train --name --threads=1` is an error, not a run
//     named "--threads=1" (write `--name=--threads=1` if that really is the name).
//   - numbers are parsed strictly (common/numbers.h) and range-checked; the error names the flag, the text and
//     the problem: "--threads=abc: not a whole number".
//   - a flag given twice is an error, except list flags (`--set`), which collect every occurrence in order.
//   - `--help` / `-h` anywhere prints the usage and every flag with its default, and nothing runs.
//
// Why our own parser rather than gflags or absl::flags (both in Debian): commands need repeated flags whose
// order matters (`node --job=a --set=x=1 --job=b`: a --set belongs to the --job before it), which both keep as
// one last-wins value; their flags are process-wide globals, so every binary linking glog would accept and list
// glog's own flags (--v, --log_dir, ...); gflags reads `--name --threads=1` as name "--threads=1" (the bug this
// parser exists to refuse); and both exit the process on an error, where this one throws, so mains are tested
// as functions and every command exits with the same status (2) for a bad command line.
#ifndef GCL_COMMON_FLAGS_H_
#define GCL_COMMON_FLAGS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gcl {

// A bad command line: unknown flag, missing value, bad number, missing required flag. The message names the flag.
class FlagError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class FlagSet {
 public:
  // A declared flag; the declaration functions return it so that limits can be added:
  // flags.Int("top", &top, "...").Min(1).Max(1000).
  class Flag {
   public:
    Flag& Required();
    // Limits of a number flag (Int, Int64, Double); an error names them ("--top=0: must be >= 1").
    Flag& Min(double min);
    Flag& Max(double max);

   private:
    friend class FlagSet;
    enum class Kind { kString, kInt, kInt64, kUnsigned, kDouble, kBool, kList, kSequence };
    Kind kind = Kind::kString;
    std::string name, placeholder, help, default_text;
    bool required = false;
    bool has_min = false, has_max = false;
    double min = 0, max = 0;
    std::function<std::string(const Flag&, const std::string&)> set;  // "" or the problem with the value
  };

  // `usage`: the command's synopsis ("search --model=FILE ... [flags]"); `about`: what it does, printed under it.
  FlagSet(std::string program, std::string usage, std::string about = "");

  // Declarations. `value` keeps its current content as the default (shown by --help) until the flag is given.
  Flag& String(const std::string& name, std::string* value, const std::string& placeholder, const std::string& help);
  Flag& Int(const std::string& name, int* value, const std::string& help);
  Flag& Int64(const std::string& name, int64_t* value, const std::string& help);
  Flag& Unsigned(const std::string& name, uint64_t* value, const std::string& help);
  Flag& Double(const std::string& name, double* value, const std::string& help);
  Flag& Bool(const std::string& name, bool* value, const std::string& help);
  // Every occurrence of the flag, in order (`--set a=1 --set b=2`).
  Flag& List(const std::string& name, std::vector<std::string>* values, const std::string& placeholder,
             const std::string& help);
  // Occurrences of several flags that share one `sequence`, as (name, value) in command-line order, for command
  // lines where position matters (node: `--job=a --set=x=1 --job=b`).
  Flag& Sequence(const std::string& name, std::vector<std::pair<std::string, std::string>>* sequence,
                 const std::string& placeholder, const std::string& help);

  // Parses argv[1..argc-1]. Returns false when --help or -h was given (the usage is printed to stdout; the caller
  // exits 0); true otherwise. Throws FlagError naming the flag and the problem.
  bool Parse(int argc, const char* const* argv);
  bool Parse(int argc, char** argv) { return Parse(argc, const_cast<const char* const*>(argv)); }
  // The same for arguments without the program name (tests).
  bool Parse(const std::vector<std::string>& args);

  // Whether the flag appeared on the command line.
  bool Given(const std::string& name) const;
  // Throws FlagError naming the first given flag that is not in `allowed`, e.g. "--features is not a flag of a
  // worker", for commands whose flags depend on a mode (node's roles).
  void ExpectOnly(const std::vector<std::string>& allowed, const std::string& context) const;

  // The --help text: usage line, description, then one line per flag with its default and limits.
  std::string Help() const;
  const std::string& program() const { return program_; }

 private:
  Flag& Add(Flag::Kind kind, const std::string& name, const std::string& placeholder, const std::string& help);
  const Flag* Find(const std::string& name) const;
  [[noreturn]] void Fail(const std::string& problem) const;

  std::string program_, usage_, about_;
  std::vector<std::unique_ptr<Flag>> flags_;
  std::vector<std::string> given_;
};

// Runs a command's body and turns what it throws into a message on stderr and an exit status: a FlagError prints
// "<program>: <problem>" and a pointer to --help and returns 2; any other std::exception prints
// "<program>: <what>" and returns `failure_status`. Returns the body's own status otherwise.
int RunCommand(const std::string& program, int failure_status, const std::function<int()>& body);

}  // namespace gcl

#endif  // GCL_COMMON_FLAGS_H_

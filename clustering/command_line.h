// Minimal `--name=value` / `--name value` / `--flag` parsing for the clustering commands, with errors that name
// the flag. Unknown flags are errors, so a typo never silently runs with a default.
#ifndef GCL_CLUSTERING_COMMAND_LINE_H_
#define GCL_CLUSTERING_COMMAND_LINE_H_

#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace gcl::clustering {

class CommandLine {
 public:
  // value_flags take a value; bool_flags do not.
  CommandLine(int argc, char** argv, const std::set<std::string>& value_flags, const std::set<std::string>& bool_flags) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + arg + "' (flags are --name=value)");
      arg = arg.substr(2);
      const size_t eq = arg.find('=');
      const std::string name = arg.substr(0, eq);
      if (bool_flags.count(name) != 0) {
        if (eq != std::string::npos) throw std::invalid_argument("--" + name + " takes no value");
        values_[name] = "true";
      } else if (value_flags.count(name) != 0) {
        if (eq != std::string::npos) {
          values_[name] = arg.substr(eq + 1);
        } else if (i + 1 < argc) {
          values_[name] = argv[++i];
        } else {
          throw std::invalid_argument("--" + name + " needs a value");
        }
      } else {
        throw std::invalid_argument("unknown flag --" + name);
      }
    }
  }

  bool Has(const std::string& name) const { return values_.count(name) != 0; }

  std::string String(const std::string& name, const std::string& fallback = "") const {
    const auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }

  std::string Required(const std::string& name) const {
    if (!Has(name)) throw std::invalid_argument("missing required flag --" + name);
    return values_.at(name);
  }

  double Double(const std::string& name, double fallback) const {
    if (!Has(name)) return fallback;
    const std::string& v = values_.at(name);
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') throw std::invalid_argument("--" + name + " = '" + v + "' is not a number");
    return d;
  }

  int Int(const std::string& name, int fallback) const {
    if (!Has(name)) return fallback;
    const std::string& v = values_.at(name);
    char* end = nullptr;
    const long d = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') throw std::invalid_argument("--" + name + " = '" + v + "' is not an integer");
    return static_cast<int>(d);
  }

  bool Bool(const std::string& name) const { return Has(name); }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_COMMAND_LINE_H_

#include "common/flags.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <sstream>

#include "common/numbers.h"

namespace gcl {
namespace {

std::string NumberText(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Edit distance, for the "did you mean" hint of an unknown flag.
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

int64_t LowerBound(bool has_min, double min, int64_t type_min) {
  return has_min ? std::max<int64_t>(type_min, static_cast<int64_t>(std::ceil(min))) : type_min;
}

int64_t UpperBound(bool has_max, double max, int64_t type_max) {
  return has_max ? std::min<int64_t>(type_max, static_cast<int64_t>(std::floor(max))) : type_max;
}

}  // namespace

FlagSet::Flag& FlagSet::Flag::Required() {
  required = true;
  return *this;
}

FlagSet::Flag& FlagSet::Flag::Min(double value) {
  has_min = true;
  min = value;
  return *this;
}

FlagSet::Flag& FlagSet::Flag::Max(double value) {
  has_max = true;
  max = value;
  return *this;
}

FlagSet::FlagSet(std::string program, std::string usage, std::string about)
    : program_(std::move(program)), usage_(std::move(usage)), about_(std::move(about)) {}

FlagSet::Flag& FlagSet::Add(Flag::Kind kind, const std::string& name, const std::string& placeholder,
                            const std::string& help) {
  if (name.empty() || name == "help" || Find(name) != nullptr) {
    throw std::logic_error("FlagSet(" + program_ + "): flag --" + name + " declared twice or reserved");
  }
  flags_.push_back(std::make_unique<Flag>());
  Flag& f = *flags_.back();
  f.kind = kind;
  f.name = name;
  f.placeholder = placeholder;
  f.help = help;
  return f;
}

FlagSet::Flag& FlagSet::String(const std::string& name, std::string* value, const std::string& placeholder,
                               const std::string& help) {
  Flag& f = Add(Flag::Kind::kString, name, placeholder, help);
  f.default_text = *value;
  f.set = [value](const Flag&, const std::string& text) {
    *value = text;
    return std::string();
  };
  return f;
}

FlagSet::Flag& FlagSet::Int(const std::string& name, int* value, const std::string& help) {
  Flag& f = Add(Flag::Kind::kInt, name, "N", help);
  f.default_text = std::to_string(*value);
  f.set = [value](const Flag& flag, const std::string& text) {
    int64_t parsed = 0;
    std::string problem = ParseInteger(text, LowerBound(flag.has_min, flag.min, std::numeric_limits<int>::min()),
                                       UpperBound(flag.has_max, flag.max, std::numeric_limits<int>::max()), &parsed);
    if (problem.empty()) *value = static_cast<int>(parsed);
    return problem;
  };
  return f;
}

FlagSet::Flag& FlagSet::Int64(const std::string& name, int64_t* value, const std::string& help) {
  Flag& f = Add(Flag::Kind::kInt64, name, "N", help);
  f.default_text = std::to_string(*value);
  f.set = [value](const Flag& flag, const std::string& text) {
    return ParseInteger(text, LowerBound(flag.has_min, flag.min, std::numeric_limits<int64_t>::min()),
                        UpperBound(flag.has_max, flag.max, std::numeric_limits<int64_t>::max()), value);
  };
  return f;
}

FlagSet::Flag& FlagSet::Unsigned(const std::string& name, uint64_t* value, const std::string& help) {
  Flag& f = Add(Flag::Kind::kUnsigned, name, "N", help);
  f.default_text = std::to_string(*value);
  f.set = [value](const Flag&, const std::string& text) { return ParseUnsigned(text, value); };
  return f;
}

FlagSet::Flag& FlagSet::Double(const std::string& name, double* value, const std::string& help) {
  Flag& f = Add(Flag::Kind::kDouble, name, "X", help);
  f.default_text = NumberText(*value);
  f.set = [value](const Flag& flag, const std::string& text) {
    return ParseReal(text, flag.has_min ? flag.min : -std::numeric_limits<double>::max(),
                     flag.has_max ? flag.max : std::numeric_limits<double>::max(), value);
  };
  return f;
}

FlagSet::Flag& FlagSet::Bool(const std::string& name, bool* value, const std::string& help) {
  Flag& f = Add(Flag::Kind::kBool, name, "", help);
  f.default_text = *value ? "true" : "";
  f.set = [value](const Flag&, const std::string& text) {
    if (text == "true" || text == "1") {
      *value = true;
    } else if (text == "false" || text == "0") {
      *value = false;
    } else {
      return std::string("not true or false (a switch: write --name alone)");
    }
    return std::string();
  };
  return f;
}

FlagSet::Flag& FlagSet::List(const std::string& name, std::vector<std::string>* values, const std::string& placeholder,
                             const std::string& help) {
  Flag& f = Add(Flag::Kind::kList, name, placeholder, help);
  f.set = [values](const Flag&, const std::string& text) {
    values->push_back(text);
    return std::string();
  };
  return f;
}

FlagSet::Flag& FlagSet::Sequence(const std::string& name, std::vector<std::pair<std::string, std::string>>* sequence,
                                 const std::string& placeholder, const std::string& help) {
  Flag& f = Add(Flag::Kind::kSequence, name, placeholder, help);
  f.set = [sequence](const Flag& flag, const std::string& text) {
    sequence->emplace_back(flag.name, text);
    return std::string();
  };
  return f;
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const auto& f : flags_) {
    if (f->name == name) return f.get();
  }
  return nullptr;
}

void FlagSet::Fail(const std::string& problem) const { throw FlagError(problem); }

bool FlagSet::Parse(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return Parse(args);
}

bool FlagSet::Parse(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << Help();
      return false;
    }
  }
  given_.clear();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() <= 2 || arg.compare(0, 2, "--") != 0) {
      Fail("unexpected argument '" + arg + "' (flags are written --name=value)");
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const Flag* flag = Find(name);
    if (flag == nullptr) {
      std::string hint;
      size_t best = 3;  // only near misses are worth a hint
      for (const auto& f : flags_) {
        if (const size_t d = Distance(name, f->name); d < best && d < name.size()) {
          best = d;
          hint = f->name;
        }
      }
      for (const auto& f : flags_) {
        if (hint.empty() && std::min(name.size(), f->name.size()) >= 3 &&
            (name.rfind(f->name, 0) == 0 || f->name.rfind(name, 0) == 0)) {
          hint = f->name;
        }
      }
      Fail("unknown flag --" + name + (hint.empty() ? std::string() : " (did you mean --" + hint + "?)"));
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (flag->kind == Flag::Kind::kBool) {
      value = "true";
    } else if (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) {
      value = args[++i];
    } else {
      Fail("--" + name + " needs a value (--" + name + "=" + (flag->placeholder.empty() ? "VALUE" : flag->placeholder) +
           ")" + (i + 1 < args.size() ? "; the next argument '" + args[i + 1] + "' is a flag" : std::string()));
    }
    const bool repeatable = flag->kind == Flag::Kind::kList || flag->kind == Flag::Kind::kSequence;
    if (!repeatable && std::find(given_.begin(), given_.end(), name) != given_.end()) {
      Fail("--" + name + " is given twice");
    }
    if (const std::string problem = flag->set(*flag, value); !problem.empty()) {
      Fail("--" + name + "=" + value + ": " + problem);
    }
    given_.push_back(name);
  }
  for (const auto& f : flags_) {
    if (f->required && !Given(f->name)) {
      Fail("--" + f->name + " is required (--" + f->name + "=" + f->placeholder + ": " + f->help + ")");
    }
  }
  return true;
}

bool FlagSet::Given(const std::string& name) const {
  return std::find(given_.begin(), given_.end(), name) != given_.end();
}

void FlagSet::ExpectOnly(const std::vector<std::string>& allowed, const std::string& context) const {
  for (const std::string& name : given_) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      Fail("--" + name + " is not a flag of " + context);
    }
  }
}

std::string FlagSet::Help() const {
  std::ostringstream out;
  out << "usage: " << usage_ << "\n";
  if (!about_.empty()) out << about_ << (about_.back() == '\n' ? "" : "\n");
  out << "flags:\n";
  constexpr size_t kColumn = 26;
  auto line = [&](const std::string& spec, const std::string& help) {
    out << "  " << spec;
    std::istringstream lines(help);
    std::string text;
    bool first = true;
    if (spec.size() + 2 >= kColumn) {
      out << "\n";
    }
    while (std::getline(lines, text)) {
      const size_t pad = first && spec.size() + 2 < kColumn ? kColumn - 2 - spec.size() : kColumn;
      out << std::string(pad, ' ') << text << "\n";
      first = false;
    }
    if (first) out << "\n";
  };
  for (const auto& f : flags_) {
    std::string spec = "--" + f->name;
    if (f->kind != Flag::Kind::kBool) spec += "=" + (f->placeholder.empty() ? std::string("VALUE") : f->placeholder);
    std::string help = f->help;
    std::vector<std::string> notes;
    if (f->required) notes.push_back("required");
    if (f->kind == Flag::Kind::kList || f->kind == Flag::Kind::kSequence) notes.push_back("repeatable");
    if (!f->required && !f->default_text.empty()) notes.push_back("default " + f->default_text);
    if (f->has_min && f->has_max) {
      notes.push_back(NumberText(f->min) + ".." + NumberText(f->max));
    } else if (f->has_min) {
      notes.push_back(">= " + NumberText(f->min));
    } else if (f->has_max) {
      notes.push_back("<= " + NumberText(f->max));
    }
    if (!notes.empty()) {
      std::string joined;
      for (const std::string& n : notes) joined += (joined.empty() ? "" : ", ") + n;
      help += " [" + joined + "]";
    }
    line(spec, help);
  }
  line("--help", "prints this text and exits");
  return out.str();
}

int RunCommand(const std::string& program, int failure_status, const std::function<int()>& body) {
  try {
    return body();
  } catch (const FlagError& e) {
    std::cerr << program << ": " << e.what() << "\n(" << program << " --help lists the flags)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return failure_status;
  }
}

}  // namespace gcl

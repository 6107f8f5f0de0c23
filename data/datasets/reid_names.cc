#include "data/datasets/reid_names.h"

#include <cstdio>
#include <limits>
#include <vector>

namespace gcl::data {
namespace {

bool IsRunChar(char c) { return c == '-' || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Maximal runs of [-0-9] characters, as [begin, end) offsets. Because '_' and the letters around the groups are
// not run characters, a regex group `[-\d]+` that is delimited by them always matches a whole maximal run, and the
// leftmost match starts at the first run that fits; that is what makes these scans equal to Python's re.search.
struct Run {
  size_t begin;
  size_t end;
};

std::vector<Run> Runs(std::string_view s) {
  std::vector<Run> runs;
  size_t i = 0;
  while (i < s.size()) {
    if (!IsRunChar(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && IsRunChar(s[j])) ++j;
    runs.push_back({i, j});
    i = j;
  }
  return runs;
}

std::string_view Basename(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool ParseInt(std::string_view text, int* out) {
  if (text.empty()) return false;
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i == text.size()) return false;
  long long value = 0;
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
    if (value > static_cast<long long>(std::numeric_limits<int>::max())) return false;
  }
  *out = static_cast<int>(negative ? -value : value);
  return true;
}

bool ParseMarketName(std::string_view file_name, MarketName* out) {
  const std::string_view name = Basename(file_name);
  for (const Run& run : Runs(name)) {
    // The pattern after the pid: "_c" and one digit.
    if (run.end + 2 >= name.size() || name[run.end] != '_' || name[run.end + 1] != 'c' ||
        !IsDigit(name[run.end + 2])) {
      continue;
    }
    int pid = 0;
    if (!ParseInt(name.substr(run.begin, run.end - run.begin), &pid)) return false;
    const int camera = name[run.end + 2] - '0';
    if (camera < 1) return false;
    out->pid = pid;
    out->camera = camera;
    return true;
  }
  return false;
}

std::string FormatMarketName(int pid, int camera, int sequence, int frame, int box) {
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "%04d_c%ds%d_%06d_%02d.jpg", pid, camera, sequence, frame, box);
  return buffer;
}

bool ParseMsmtName(std::string_view file_name, MsmtName* out) {
  const std::string_view name = Basename(file_name);
  const std::vector<Run> runs = Runs(name);
  for (size_t k = 0; k + 2 < runs.size(); ++k) {
    const Run& a = runs[k];
    const Run& b = runs[k + 1];
    const Run& c = runs[k + 2];
    // The three groups must be separated by exactly one '_' each.
    if (b.begin != a.end + 1 || name[a.end] != '_' || c.begin != b.end + 1 || name[b.end] != '_') continue;
    int pid = 0;
    int camera = 0;
    int middle = 0;
    if (!ParseInt(name.substr(a.begin, a.end - a.begin), &pid) ||
        !ParseInt(name.substr(b.begin, b.end - b.begin), &middle) ||
        !ParseInt(name.substr(c.begin, c.end - c.begin), &camera) || camera < 1) {
      return false;
    }
    out->pid = pid;
    out->camera = camera;
    return true;
  }
  return false;
}

std::string FormatMsmtName(int pid, int index, int camera, std::string_view date_time, int frame, int box) {
  char buffer[160];
  std::snprintf(buffer, sizeof(buffer), "%04d_%03d_%02d_%.*s_%04d_%d.jpg", pid, index, camera,
                static_cast<int>(date_time.size()), date_time.data(), frame, box);
  return buffer;
}

bool ParseMsmtListLine(std::string_view line, MsmtListLine* out) {
  // Trim trailing "\r" and spaces (list files written on Windows), then split on the last run of blanks.
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  const size_t blank = line.find_last_of(" \t");
  if (blank == std::string_view::npos) return false;
  std::string_view path = line.substr(0, blank);
  while (!path.empty() && (path.back() == ' ' || path.back() == '\t')) path.remove_suffix(1);
  int label = 0;
  if (path.empty() || !ParseInt(line.substr(blank + 1), &label) || label < 0) return false;
  out->relative_path = std::string(path);
  out->label = label;
  return true;
}

}  // namespace gcl::data

#include "clustering/feature_io.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "common/numbers.h"

namespace gcl::clustering {
namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicSize = 6;
constexpr char kCsvHeader[] = "path,pid,camid";

[[noreturn]] void Fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

bool HostIsLittleEndian() {
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// Returns the text after `'key':` in a .npy header dict, up to (not including) the next top-level ',' or '}'.
std::string HeaderValue(const std::string& path, const std::string& header, const std::string& key) {
  const std::string quoted = "'" + key + "'";
  size_t pos = header.find(quoted);
  if (pos == std::string::npos) Fail(path, "npy header has no '" + key + "' entry: " + header);
  pos = header.find(':', pos + quoted.size());
  if (pos == std::string::npos) Fail(path, "npy header entry '" + key + "' has no value: " + header);
  ++pos;
  int depth = 0;
  size_t end = pos;
  for (; end < header.size(); ++end) {
    const char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  std::string value = header.substr(pos, end - pos);
  const size_t first = value.find_first_not_of(" \t");
  const size_t last = value.find_last_not_of(" \t");
  return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
}

std::vector<int64_t> ParseShape(const std::string& path, const std::string& text) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
    Fail(path, "npy header 'shape' is not a tuple: " + text);
  }
  std::vector<int64_t> dims;
  std::stringstream in(text.substr(1, text.size() - 2));
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t first = item.find_first_not_of(" \t");
    if (first == std::string::npos) continue;  // The trailing comma of a 1-tuple.
    const std::string digits = item.substr(first, item.find_last_not_of(" \tL") - first + 1);
    int64_t dim = 0;
    if (const std::string problem = gcl::ParseInteger(digits, 0, std::numeric_limits<int64_t>::max(), &dim);
        digits.empty() || digits[0] == '+' || !problem.empty()) {
      Fail(path, "npy header 'shape' has a bad dimension '" + item + "'");
    }
    dims.push_back(dim);
  }
  return dims;
}

// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
void WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) Fail(path, std::string("cannot open for writing: ") + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      Fail(path, "write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    Fail(path, "cannot rename the temporary file into place: " + why);
  }
}

std::string QuoteCsvField(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (const char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

// Splits one CSV line into fields, honouring RFC 4180 double quotes.
std::vector<std::string> SplitCsvLine(const std::string& path, int64_t line_number, const std::string& line) {
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  bool was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"' && fields.back().empty() && !was_quoted) {
      in_quotes = true;
      was_quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
      was_quoted = false;
    } else {
      if (was_quoted) Fail(path, "line " + std::to_string(line_number) + ": text after a closing quote");
      fields.back() += c;
    }
  }
  if (in_quotes) Fail(path, "line " + std::to_string(line_number) + ": unterminated quote");
  return fields;
}

int64_t ParseInteger(const std::string& path, int64_t line_number, const std::string& column, const std::string& text) {
  int64_t value = 0;
  if (const std::string problem = gcl::ParseInteger(text, &value); !problem.empty()) {
    Fail(path, "line " + std::to_string(line_number) + ": " + column + " '" + text + "' is " +
                   (problem == "not a whole number" ? "not an integer" : "out of range (" + problem + ")"));
  }
  return value;
}

// The file's size, after checking that it is a regular file (a device such as /dev/zero never ends).
uint64_t RegularFileSize(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    Fail(path, std::filesystem::exists(path, error) ? "not a regular file" : "cannot open: no such file");
  }
  const uint64_t size = std::filesystem::file_size(path, error);
  if (error) Fail(path, "cannot open: " + error.message());
  return size;
}

}  // namespace

FeatureMatrix ReadNpy(const std::string& path, bool allow_non_finite) {
  if (!HostIsLittleEndian()) Fail(path, "reading .npy needs a little-endian host");
  const uint64_t file_size = RegularFileSize(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(path, std::string("cannot open: ") + std::strerror(errno));
  char magic[kNpyMagicSize];
  in.read(magic, kNpyMagicSize);
  if (!in || std::memcmp(magic, kNpyMagic, kNpyMagicSize) != 0) Fail(path, "not a .npy file (bad magic)");
  unsigned char version[2];
  in.read(reinterpret_cast<char*>(version), 2);
  if (!in) Fail(path, "truncated .npy header");
  uint32_t header_len = 0;
  if (version[0] == 1) {
    unsigned char len[2];
    in.read(reinterpret_cast<char*>(len), 2);
    header_len = len[0] | (len[1] << 8);
  } else if (version[0] == 2 || version[0] == 3) {
    unsigned char len[4];
    in.read(reinterpret_cast<char*>(len), 4);
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<uint32_t>(len[3]) << 24);
  } else {
    Fail(path, "unsupported .npy version " + std::to_string(version[0]) + "." + std::to_string(version[1]));
  }
  const uint64_t data_start = (version[0] == 1 ? 10 : 12) + static_cast<uint64_t>(header_len);
  if (!in || data_start > file_size) {
    Fail(path, "truncated .npy header: it claims " + std::to_string(header_len) + " bytes in a file of " +
                   std::to_string(file_size));
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (!in) Fail(path, "truncated .npy header");

  const std::string descr = HeaderValue(path, header, "descr");
  if (descr != "'<f4'") {
    Fail(path, "dtype " + descr + " is not supported; features must be little-endian float32 '<f4' "
                                  "(numpy: arr.astype(np.float32))");
  }
  if (HeaderValue(path, header, "fortran_order") != "False") {
    Fail(path, "Fortran-ordered arrays are not supported; save a C-ordered array (np.ascontiguousarray)");
  }
  const std::vector<int64_t> shape = ParseShape(path, HeaderValue(path, header, "shape"));
  if (shape.size() != 2) {
    Fail(path, "expected a 2-D array (N x D), got " + std::to_string(shape.size()) + " dimensions");
  }
  FeatureMatrix m;
  m.rows = shape[0];
  m.cols = shape[1];
  // The data must be in the file before anything is allocated for it: a 256-byte file may claim 1e11 rows.
  const uint64_t available = (file_size - data_start) / sizeof(float);
  if (m.cols > 0 && static_cast<uint64_t>(m.rows) > available / static_cast<uint64_t>(m.cols)) {
    Fail(path, "truncated data: the header promises " + std::to_string(m.rows) + " x " + std::to_string(m.cols) +
                   " float32 values, the file holds " + std::to_string(available));
  }
  m.data.resize(static_cast<size_t>(m.rows * m.cols));
  in.read(reinterpret_cast<char*>(m.data.data()), static_cast<std::streamsize>(m.data.size() * sizeof(float)));
  if (!in) {
    Fail(path, "truncated data: the header promises " + std::to_string(m.rows) + " x " + std::to_string(m.cols) +
                   " float32 values");
  }
  if (!allow_non_finite) {
    for (size_t i = 0; i < m.data.size(); ++i) {
      if (!std::isfinite(m.data[i])) {
        Fail(path, "non-finite value (NaN or Inf) at row " + std::to_string(i / m.cols) + ", column " +
                       std::to_string(i % m.cols));
      }
    }
  }
  return m;
}

void WriteNpy(const std::string& path, const float* data, int64_t rows, int64_t cols) {
  if (!HostIsLittleEndian()) Fail(path, "writing .npy needs a little-endian host");
  if (rows < 0 || cols < 0) Fail(path, "negative shape");
  if (data == nullptr && rows * cols > 0) Fail(path, "no data to write");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                       std::to_string(cols) + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64 bytes (npy format 1.0).
  const size_t unpadded = kNpyMagicSize + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes(kNpyMagic, kNpyMagicSize);
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>((header.size() >> 8) & 0xff);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data), static_cast<size_t>(rows * cols) * sizeof(float));
  WriteFileAtomically(path, bytes);
}

std::vector<SampleInfo> ReadSampleCsv(const std::string& path) {
  RegularFileSize(path);
  std::ifstream in(path);
  if (!in) Fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<SampleInfo> samples;
  std::string line;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line == kCsvHeader) continue;
    if (line.empty()) Fail(path, "line " + std::to_string(line_number) + " is empty");
    const std::vector<std::string> fields = SplitCsvLine(path, line_number, line);
    if (fields.size() != 3) {
      Fail(path, "line " + std::to_string(line_number) + " has " + std::to_string(fields.size()) +
                     " fields; expected path,pid,camid");
    }
    SampleInfo s;
    s.path = fields[0];
    s.pid = ParseInteger(path, line_number, "pid", fields[1]);
    s.camid = ParseInteger(path, line_number, "camid", fields[2]);
    samples.push_back(std::move(s));
  }
  if (in.bad()) Fail(path, "read error");
  return samples;
}

void WriteSampleCsv(const std::string& path, const std::vector<SampleInfo>& samples) {
  std::string text = std::string(kCsvHeader) + "\n";
  for (const SampleInfo& s : samples) {
    if (s.path.find_first_of("\r\n") != std::string::npos) Fail(path, "sample path holds a line break: " + s.path);
    text += QuoteCsvField(s.path) + "," + std::to_string(s.pid) + "," + std::to_string(s.camid) + "\n";
  }
  WriteFileAtomically(path, text);
}

FeatureSet ReadFeatureSet(const std::string& npy_path, const std::string& csv_path) {
  FeatureSet set;
  set.features = ReadNpy(npy_path);
  set.samples = ReadSampleCsv(csv_path);
  if (static_cast<int64_t>(set.samples.size()) != set.features.rows) {
    throw std::runtime_error("shape mismatch: " + npy_path + " has " + std::to_string(set.features.rows) +
                             " rows but " + csv_path + " has " + std::to_string(set.samples.size()) + " samples");
  }
  return set;
}

void WriteFeatureSet(const std::string& npy_path, const std::string& csv_path, const float* data, int64_t rows,
                     int64_t cols, const std::vector<SampleInfo>& samples) {
  if (static_cast<int64_t>(samples.size()) != rows) {
    throw std::runtime_error("shape mismatch writing " + npy_path + " / " + csv_path + ": " +
                             std::to_string(rows) + " feature rows but " + std::to_string(samples.size()) +
                             " samples");
  }
  WriteNpy(npy_path, data, rows, cols);
  WriteSampleCsv(csv_path, samples);
}

}  // namespace gcl::clustering

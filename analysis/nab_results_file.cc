#include "analysis/nab_results_file.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "dosim/error.h"

namespace dosim {
namespace {

std::string nab_timestamp(std::int64_t ns) {
  std::int64_t seconds = ns / 1'000'000'000;
  std::int64_t fraction = ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --seconds;
  }
  const auto whole = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buffer[48];
  std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  if (fraction != 0)
    std::snprintf(buffer + length, sizeof buffer - length, ".%09lld",
                  static_cast<long long>(fraction));
  return buffer;
}

}  // namespace

std::string nab_results_name(const std::string& detector) {
  std::string name = detector;
  for (char& c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '_';
    if (!keep) c = '_';
  }
  return name;
}

void write_nab_results_file(const std::string& dir, const std::string& name,
                            const NabCorpusFile& file, const std::vector<double>& scores) {
  namespace fs = std::filesystem;
  const fs::path relative(file.relative_path);
  const fs::path folder = fs::path(dir) / name / relative.parent_path();
  const fs::path path = folder / (name + "_" + relative.filename().string());
  std::error_code error;
  fs::create_directories(folder, error);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (error || !out) throw InputError(path.string(), "cannot write the NAB results file");
  out << "timestamp,anomaly_score\n";
  char number[32];
  for (std::size_t i = 0; i < scores.size() && i < file.timestamps.size(); ++i) {
    std::snprintf(number, sizeof number, "%.17g", scores[i]);
    out << nab_timestamp(file.timestamps[i]) << ',' << number << '\n';
  }
  out.close();
  if (!out) throw InputError(path.string(), "cannot write the NAB results file");
}

}  // namespace dosim

#include "analysis/nab_corpus.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "engine/diagnostics.h"

namespace dosim {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& file, int line, int column, const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file, line, column, message}});
}

[[noreturn]] void fail(const std::string& file, const std::string& message) {
  throw InputError(file, message);
}

std::string read_text(const std::string& path, const std::string& what) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) fail(path, "no " + what + " (file not found)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open ") + what + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Json read_json(const std::string& path, const std::string& what) {
  const std::string text = read_text(path, what);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& error) {
    fail(path, std::string("not valid JSON: ") + error.what());
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

// A CSV field: its text (trimmed) and its 1-based column in the line.
struct Field {
  std::string_view text;
  int column = 1;
};

// Splits a line at commas (NAB's files are plain, unquoted CSV).
std::vector<Field> split_line(std::string_view line) {
  std::vector<Field> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
    fields.push_back({trim(line.substr(start, end - start)), static_cast<int>(start) + 1});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

// The rows of a CSV file: timestamps always, anomaly scores when `want_scores`.
struct CsvColumns {
  std::vector<std::int64_t> timestamps;
  std::vector<int> lines;  // the line of each row, for messages
  std::vector<double> scores;
};

CsvColumns read_csv(const std::string& path, const std::string& what, bool want_scores) {
  const std::string text = read_text(path, what);
  CsvColumns result;
  std::size_t timestamp_column = 0;
  std::size_t score_column = 0;
  std::size_t needed = 0;  // fields a row must have
  bool header_seen = false;
  int line_number = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + position, end - position);
    position = end + 1;
    ++line_number;
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // BOM
    if (trim(line).empty()) continue;
    const std::vector<Field> fields = split_line(line);
    if (!header_seen) {
      header_seen = true;
      auto find = [&](std::string_view name) -> std::size_t {
        for (std::size_t i = 0; i < fields.size(); ++i)
          if (fields[i].text == name) return i;
        fail(path, line_number, 1, "no `" + std::string(name) + "` column in the header");
      };
      timestamp_column = find("timestamp");
      needed = timestamp_column + 1;
      if (want_scores) {
        score_column = find("anomaly_score");
        needed = std::max(needed, score_column + 1);
      }
      continue;
    }
    if (fields.size() < needed)
      fail(path, line_number, 1,
           std::to_string(fields.size()) + " fields, the header has at least " +
               std::to_string(needed));
    const Field& stamp = fields[timestamp_column];
    const std::optional<std::int64_t> time = parse_nab_timestamp(stamp.text);
    if (!time)
      fail(path, line_number, stamp.column,
           "bad timestamp `" + std::string(stamp.text) + "` (expected YYYY-MM-DD HH:MM:SS)");
    result.timestamps.push_back(*time);
    result.lines.push_back(line_number);
    if (want_scores) {
      const Field& field = fields[score_column];
      double value = 0.0;
      const char* first = field.text.data();
      const char* last = first + field.text.size();
      const auto [ptr, error] = std::from_chars(first, last, value);
      if (field.text.empty() || error != std::errc() || ptr != last || value != value)
        fail(path, line_number, field.column,
             "bad anomaly_score `" + std::string(field.text) + "` (expected a number)");
      result.scores.push_back(value);
    }
  }
  if (!header_seen) fail(path, "empty file (no header)");
  return result;
}

// Reads `count` digits at `text[at]` into `value`; false when they are not all digits.
bool digits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

bool leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

}  // namespace

std::size_t NabCorpus::window_count() const {
  std::size_t count = 0;
  for (const NabCorpusFile& file : files) count += file.windows.size();
  return count;
}

std::optional<std::int64_t> parse_nab_timestamp(std::string_view text) {
  text = trim(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day))
    return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap(year) ? 1 : 0))
    return std::nullopt;
  std::int64_t nanos = 0;
  std::size_t at = 10;
  if (at < text.size()) {
    if ((text[at] != ' ' && text[at] != 'T') || !digits(text, at + 1, 2, hour) ||
        at + 3 >= text.size() || text[at + 3] != ':' || !digits(text, at + 4, 2, minute))
      return std::nullopt;
    at += 6;
    if (at < text.size()) {
      if (text[at] != ':' || !digits(text, at + 1, 2, second)) return std::nullopt;
      at += 3;
      if (at < text.size()) {
        if (text[at] != '.' || at + 1 >= text.size() || text.size() - at - 1 > 9)
          return std::nullopt;
        std::int64_t scale = 100000000;
        for (std::size_t i = at + 1; i < text.size(); ++i, scale /= 10) {
          if (text[i] < '0' || text[i] > '9') return std::nullopt;
          nanos += (text[i] - '0') * scale;
        }
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  }
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60'000'000'000LL +
         static_cast<std::int64_t>(second) * 1'000'000'000LL + nanos;
}

NabCorpus read_nab_corpus(const std::string& root) {
  std::error_code error;
  if (!fs::is_directory(root, error)) fail(root, "no NAB root directory (not found)");
  NabCorpus corpus;
  corpus.root = root;

  const std::string profiles_path = (fs::path(root) / "config" / "profiles.json").string();
  const Json profiles = read_json(profiles_path, "NAB profiles");
  if (!profiles.is_object() || profiles.empty())
    fail(profiles_path, "expected an object of profiles");
  for (const auto& [name, profile] : profiles.items()) {
    const Json* costs =
        profile.is_object() && profile.contains("CostMatrix") ? &profile.at("CostMatrix") : nullptr;
    auto weight = [&](const char* key) {
      if (costs == nullptr || !costs->is_object() || !costs->contains(key) ||
          !costs->at(key).is_number())
        fail(profiles_path, "profile `" + name + "`: no number CostMatrix." + key);
      return costs->at(key).get<double>();
    };
    corpus.profiles.push_back({name, weight("tpWeight"), weight("fpWeight"), weight("fnWeight")});
  }

  const std::string labels_path = (fs::path(root) / "labels" / "combined_windows.json").string();
  const Json labels = read_json(labels_path, "NAB windows file");
  if (!labels.is_object()) fail(labels_path, "expected an object: file -> list of windows");
  for (const auto& [relative_path, windows] : labels.items()) {
    const std::string data_path = (fs::path(root) / "data" / relative_path).string();
    CsvColumns data = read_csv(data_path, "data file for `" + relative_path + "`", false);
    NabCorpusFile file;
    file.relative_path = relative_path;
    file.timestamps = std::move(data.timestamps);
    std::unordered_map<std::int64_t, std::size_t> row_of;  // timestamp -> row, first match
    std::unordered_map<std::int64_t, std::size_t> matches;
    for (std::size_t i = 0; i < file.timestamps.size(); ++i) {
      row_of.emplace(file.timestamps[i], i);
      ++matches[file.timestamps[i]];
    }
    if (!windows.is_array()) fail(labels_path, "`" + relative_path + "`: expected a list");
    for (const Json& window : windows) {
      if (!window.is_array() || window.size() != 2 || !window[0].is_string() ||
          !window[1].is_string())
        fail(labels_path, "`" + relative_path + "`: a window must be [start, end] timestamps");
      std::size_t rows[2] = {0, 0};
      for (int end = 0; end < 2; ++end) {
        const std::string stamp = window[end].get<std::string>();
        const std::optional<std::int64_t> time = parse_nab_timestamp(stamp);
        if (!time) fail(labels_path, "`" + relative_path + "`: bad timestamp `" + stamp + "`");
        const auto found = matches.find(*time);
        if (found == matches.end() || found->second != 1)
          fail(labels_path, "`" + relative_path + "`: window timestamp `" + stamp + "` matches " +
                                (found == matches.end() ? std::string("no") : "more than one") +
                                " row of " + data_path + " (NAB requires exactly one)");
        rows[end] = row_of.at(*time);
      }
      if (rows[0] > rows[1])
        fail(labels_path, "`" + relative_path + "`: window ends before it starts");
      if (!file.windows.empty() && rows[0] <= file.windows.back().last_row)
        fail(labels_path, "`" + relative_path + "`: windows overlap or are not in time order");
      file.windows.push_back({rows[0], rows[1]});
    }
    corpus.files.push_back(std::move(file));
  }
  return corpus;
}

std::vector<NabFile> read_nab_results(const NabCorpus& corpus, const std::string& results_dir,
                                      const std::string& detector) {
  std::error_code error;
  const fs::path detector_dir = fs::path(results_dir) / detector;
  if (!fs::is_directory(results_dir, error)) fail(results_dir, "no results directory");
  if (!fs::is_directory(detector_dir, error))
    fail(detector_dir.string(), "no results directory for detector `" + detector + "`");
  std::vector<NabFile> files;
  files.reserve(corpus.files.size());
  for (const NabCorpusFile& data : corpus.files) {
    const fs::path relative(data.relative_path);
    const std::string path =
        (detector_dir / relative.parent_path() / (detector + "_" + relative.filename().string()))
            .string();
    CsvColumns results = read_csv(path, "results file for `" + data.relative_path + "`", true);
    if (results.timestamps.size() != data.timestamps.size())
      fail(path, std::to_string(results.timestamps.size()) + " rows, the data file has " +
                     std::to_string(data.timestamps.size()));
    for (std::size_t i = 0; i < results.timestamps.size(); ++i)
      if (results.timestamps[i] != data.timestamps[i])
        fail(path, results.lines[i], 1,
             "timestamp differs from row " + std::to_string(i + 1) + " of the data file");
    files.push_back({data.relative_path, data.windows, std::move(results.scores)});
  }
  return files;
}

std::vector<NabThreshold> read_nab_thresholds(const std::string& root,
                                              const std::string& detector) {
  const std::string path = (fs::path(root) / "config" / "thresholds.json").string();
  const Json thresholds = read_json(path, "NAB thresholds file");
  if (!thresholds.is_object()) fail(path, "expected an object: detector -> profiles");
  if (!thresholds.contains(detector)) {
    std::vector<std::string> names;
    for (const auto& [name, value] : thresholds.items()) names.push_back(name);
    const std::string suggestion = closest_match(detector, names);
    fail(path, "no thresholds for detector `" + detector + "`" +
                   (suggestion.empty() ? std::string() : " (did you mean `" + suggestion + "`?)"));
  }
  const Json& profiles = thresholds.at(detector);
  if (!profiles.is_object()) fail(path, "`" + detector + "`: expected an object of profiles");
  std::vector<NabThreshold> result;
  for (const auto& [profile, entry] : profiles.items()) {
    if (!entry.is_object() || !entry.contains("threshold") || !entry.at("threshold").is_number())
      fail(path, "`" + detector + "." + profile + "`: no number `threshold`");
    NabThreshold threshold{profile, entry.at("threshold").get<double>(), 0.0};
    if (entry.contains("score") && entry.at("score").is_number())
      threshold.score = entry.at("score").get<double>();
    result.push_back(threshold);
  }
  return result;
}

}  // namespace dosim

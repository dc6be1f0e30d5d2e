#include "dosim/analysis/external_scores.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "dosim/error.h"
#include "util/csv.h"
#include "util/input_file.h"
#include "util/json_keys.h"

namespace dosim {
namespace {

constexpr std::size_t kMaxListedProblems = 100;
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::string_view kSecondsForms =
    "seconds since the run's start, or an ISO 8601 date-time counted from 1970-01-01T00:00:00Z";

// Every problem of one file, thrown together in file order (the first kMaxListedProblems of
// them, then a count of the rest).
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}
  void add(int line, int column, std::string message) {
    diagnostics_.push_back({file_, line, column, std::move(message)});
  }
  void throw_if_any() const {
    if (diagnostics_.empty()) return;
    std::vector<Diagnostic> all = diagnostics_;
    std::stable_sort(all.begin(), all.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    if (all.size() > kMaxListedProblems) {
      const std::size_t unlisted = all.size() - kMaxListedProblems;
      all.resize(kMaxListedProblems);
      all.push_back(
          {file_, 0, 0, std::to_string(unlisted) + " more problems not listed", false, unlisted});
    }
    throw InputError(std::move(all));
  }

 private:
  std::string file_;
  std::vector<Diagnostic> diagnostics_;
};

// The keys the alerts and scores files are read by (others are ignored, whatever they hold).
const std::set<std::string> kReadKeys = {"time",        "time_ns",  "t_ns",   "resolved",
                                         "resolved_ns", "service",  "target", "detector",
                                         "metric",      "severity", "series", "score"};

// One value of a record and where it starts (column 0 in JSON lines: the line is the place).
struct Cell {
  std::string text;
  int line = 0;
  int column = 0;
};

// A CSV row or a JSON line. `keys` are the names its source gives (the CSV header, the JSON
// object's non-null keys); `cells` those it has a value for (a short CSV row has fewer).
struct Record {
  int line = 0;
  std::set<std::string> keys;
  std::map<std::string, Cell> cells;
};

struct Records {
  bool json = false;
  int header_line = 0;                // CSV
  std::map<std::string, int> header;  // CSV: column name -> its column
  std::vector<Record> rows;
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_json_lines(const std::string& path, std::string_view text) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ends_with(lower, ".jsonl") || ends_with(lower, ".ndjson") || ends_with(lower, ".json"))
    return true;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  text = trim(text);
  return !text.empty() && text.front() == '{';
}

Records csv_records(std::string_view text, const std::string& path, Problems& problems) {
  const CsvTable table = parse_csv(text, path);
  Records records;
  records.header_line = table.header.line;
  for (const CsvField& field : table.header.fields)
    records.header.emplace(field.text, field.column);  // a repeated name: its first column
  for (const CsvRow& row : table.rows) {
    Record record;
    record.line = row.line;
    // Fields beyond the header's are a mistake (a comma too many, a shifted row), said at
    // the first of them. A short row leaves its last columns out: a missing required one is
    // said where the columns are read.
    const std::size_t width = table.header.fields.size();
    if (row.fields.size() > width)
      problems.add(
          row.fields[width].line, row.fields[width].column,
          std::to_string(row.fields.size()) + " fields, the header has " + std::to_string(width));
    for (std::size_t i = 0; i < table.header.fields.size(); ++i) {
      const std::string& name = table.header.fields[i].text;
      record.keys.insert(name);
      if (i < row.fields.size() && !record.cells.contains(name))
        record.cells.emplace(name,
                             Cell{row.fields[i].text, row.fields[i].line, row.fields[i].column});
    }
    records.rows.push_back(std::move(record));
  }
  return records;
}

// nlohmann's own words, after "[json.exception.parse_error.101] ", the line (always 1 of
// one line) left out.
std::string json_reason(const std::exception& error) {
  std::string what = error.what();
  if (const std::size_t at = what.find("] "); at != std::string::npos) what.erase(0, at + 2);
  if (const std::size_t at = what.find("at line 1, "); at != std::string::npos)
    what.erase(at + 3, 8);
  return what;
}

Records json_records(std::string_view text, Problems& problems) {
  Records records;
  records.json = true;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  int line = 0;
  while (!text.empty()) {
    ++line;
    const std::size_t end = text.find('\n');
    const std::string_view content = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (content.empty()) continue;
    nlohmann::json object;
    std::string twice;
    try {
      object = parse_json_noting_repeats(content, twice);
    } catch (const nlohmann::json::exception& error) {
      problems.add(line, 0, "not valid JSON: " + json_reason(error));
      continue;
    }
    if (!object.is_object()) {
      problems.add(line, 0, "expected a JSON object (one per line)");
      continue;
    }
    if (!twice.empty()) {  // which one counts is not said
      problems.add(line, 0, "key `" + twice + "` is given twice");
      continue;
    }
    Record record;
    record.line = line;
    for (const auto& [key, value] : object.items()) {
      if (value.is_null()) continue;
      if (value.is_string()) {
        record.cells.emplace(key, Cell{value.get<std::string>(), line, 0});
      } else if (value.is_number()) {
        record.cells.emplace(key, Cell{value.dump(), line, 0});
      } else if (kReadKeys.contains(key)) {
        problems.add(line, 0, "`" + key + "`: expected a string or a number");
        continue;
      } else {
        continue;  // an object, a list or a boolean no column reads (an export's `labels`)
      }
      record.keys.insert(key);
    }
    records.rows.push_back(std::move(record));
  }
  return records;
}

// The records of the file at `path`; problems of JSON lines and CSV rows of the wrong width
// go to `problems` (a CSV's structural errors throw at once, as util/csv.h does).
Records read_records(const std::string& path, Problems& problems) {
  const std::string text = read_input_text(path, kMaxCsvBytes);
  return is_json_lines(path, text) ? json_records(text, problems)
                                   : csv_records(text, path, problems);
}

// Which of `names` (alternatives for one column, in the order of preference given) a file or
// a record uses: "" when none. Both is a problem (at the header for CSV, once per line for
// JSON lines), as is none when `required`.
std::string choose_key(const Records& records, const Record* record,
                       const std::vector<std::string>& names, bool required, Problems& problems) {
  std::vector<std::string> present;
  for (const std::string& name : names)
    if (record ? record->keys.contains(name) : records.header.contains(name))
      present.push_back(name);
  const int line = record ? record->line : records.header_line;
  auto column_of = [&](const std::string& name) { return record ? 0 : records.header.at(name); };
  // The names a message offers: not an alias (`t_ns`, the trace's own column, for `time_ns`).
  std::string alternatives = "`" + names[0] + "`";
  for (std::size_t i = 1; i < names.size(); ++i)
    if (names[i] != "t_ns") alternatives += " or `" + names[i] + "`";
  const std::string what = record ? "key" : "column";
  if (present.size() > 1) {
    problems.add(line, column_of(present[1]),
                 "both `" + present[0] + "` and `" + present[1] + "`: give one " + what);
    return present[0];
  }
  if (present.empty()) {
    if (required) problems.add(line, record ? 0 : 1, "missing " + what + " " + alternatives);
    return "";
  }
  return present[0];
}

// Per record, the key chosen among alternatives: the header's choice for CSV, the line's own
// for JSON lines.
class KeyChoice {
 public:
  KeyChoice(const Records& records, std::vector<std::string> names, bool required,
            Problems& problems)
      : records_(records), names_(std::move(names)), required_(required) {
    if (!records.json) csv_choice_ = choose_key(records, nullptr, names_, required_, problems);
  }
  std::string of(const Record& record, Problems& problems) const {
    return records_.json ? choose_key(records_, &record, names_, required_, problems) : csv_choice_;
  }

 private:
  const Records& records_;
  std::vector<std::string> names_;
  bool required_;
  std::string csv_choice_;
};

// The record's cell under `key`; a problem (at the row) when the row is too short to have it.
const Cell* cell_of(const Record& record, const std::string& key, Problems& problems) {
  if (key.empty()) return nullptr;
  const auto found = record.cells.find(key);
  if (found != record.cells.end()) return &found->second;
  if (record.keys.contains(key))
    problems.add(record.line, 1,
                 "missing field `" + key + "` (the row is shorter than the header)");
  return nullptr;
}

// A decimal number of seconds, exact to the nanosecond (half away from zero past 9
// decimals); other number forms (exponents) through a double.
std::optional<SimTime> parse_seconds(std::string_view text) {
  text = trim(text);
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '-' || rest.front() == '+')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  const std::size_t dot = rest.find('.');
  const std::string_view whole = rest.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!whole.empty() && all_digits(whole) && all_digits(fraction) &&
      (dot == std::string_view::npos || !fraction.empty())) {
    std::int64_t seconds = 0;
    const auto [end, error] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    if (error != std::errc() || seconds > 9'000'000'000) return std::nullopt;
    std::int64_t nanos = 0;
    for (std::size_t i = 0; i < 9; ++i)
      nanos = nanos * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
    if (fraction.size() > 9 && fraction[9] >= '5') ++nanos;
    const SimTime value = seconds * kNanosPerSecond + nanos;
    return negative ? -value : value;
  }
  const std::optional<double> value = parse_number(text);
  if (!value || std::fabs(*value) > 9e9) return std::nullopt;
  return static_cast<SimTime>(std::llround(*value * 1e9));
}

// Whole nanoseconds (an integral number written with a fraction or exponent is accepted).
std::optional<SimTime> parse_nanoseconds(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc() && end == text.data() + text.size()) return value;
  const std::optional<double> number = parse_number(text);
  if (!number || *number != std::floor(*number) || std::fabs(*number) > 9e18) return std::nullopt;
  return static_cast<SimTime>(*number);
}

bool looks_like_date(std::string_view text) {
  text = trim(text);
  return text.size() >= 10 && text[4] == '-';
}

std::string seconds_text(SimTime t) {
  std::ostringstream out;
  out << static_cast<double>(t) / 1e9 << " s";
  return out.str();
}

// A time column's value, checked against the run's span; nullopt (with a problem) if bad.
// An `optional` one (resolved) may be empty, or -1 in nanoseconds: not present.
struct TimeValue {
  bool present = false;
  SimTime time = 0;
};

std::optional<TimeValue> read_time(const Cell& cell, const std::string& key, SimTime span,
                                   bool optional, Problems& problems) {
  const std::string_view text = trim(cell.text);
  const bool nanoseconds = ends_with(key, "_ns");
  if (text.empty()) {
    if (optional) return TimeValue{};
    problems.add(cell.line, cell.column, "empty `" + key + "`");
    return std::nullopt;
  }
  if (optional && nanoseconds && text == "-1") return TimeValue{};
  const bool date = !nanoseconds && looks_like_date(text);
  std::optional<SimTime> time;
  if (nanoseconds)
    time = parse_nanoseconds(text);
  else
    time = date ? parse_timestamp(text) : parse_seconds(text);
  const bool in_run = time && *time >= 0 && *time <= span;
  if (in_run) return TimeValue{true, *time};
  // Nanoseconds under a seconds name are the likely mistake: say so when, read as
  // nanoseconds, the value is a time of the run past its first second.
  std::string hint;
  if (!nanoseconds && !date) {
    const std::optional<SimTime> as_nanoseconds = parse_nanoseconds(text);
    if (as_nanoseconds && *as_nanoseconds >= kNanosPerSecond && *as_nanoseconds <= span)
      hint = "; nanoseconds? use `" + key + "_ns`";
  }
  if (date && time) hint = "; a date-time counts from 1970-01-01T00:00:00Z, the run's start";
  // A number too large to be a time at all is still outside the run, not malformed.
  const bool number = !nanoseconds && !date && parse_number(text).has_value();
  if (!time && !number) {
    problems.add(cell.line, cell.column,
                 "bad time `" + std::string(text) + "` in `" + key + "` (expected " +
                     (nanoseconds ? std::string("whole nanoseconds since the run's start")
                                  : std::string(kSecondsForms)) +
                     ")" + hint);
  } else {
    // In the column's unit; a negative `_ns` of an optional column: only -1 means never.
    const std::string range = nanoseconds ? std::to_string(span) + " ns" : seconds_text(span);
    const std::string never = optional && nanoseconds && time && *time < 0
                                  ? "; -1 is the only negative value: never resolved"
                                  : "";
    problems.add(cell.line, cell.column,
                 "time `" + std::string(text) + "` in `" + key + "` is outside the run (0 to " +
                     range + ")" + never + hint);
  }
  return std::nullopt;
}

class ServiceLookup {
 public:
  explicit ServiceLookup(const TraceForScoring& trace)
      : names_(trace.services),
        edges_(trace.edge_targets),
        endpoints_(trace.endpoint_targets),
        listed_(trace.targets_listed) {
    for (std::size_t i = 0; i < names_.size(); ++i)
      index_.emplace(names_[i], static_cast<int>(i));  // a repeated name: its first index
  }

  // The service a target is about: the service itself, the caller of `caller->callee`, the
  // service of `service /endpoint`. -1 with a problem when unknown (the service, or the
  // dependency or endpoint of a known one, where the trace lists them).
  int of_target(const Cell& cell, bool plain_service, const std::string& key,
                Problems& problems) const {
    std::string_view name = trim(cell.text);
    std::string whole;  // the dependency or endpoint, as /alerts/target writes it
    const std::vector<std::string>* known = nullptr;
    std::string what, a_what;
    if (!plain_service) {
      if (const std::size_t arrow = name.find("->"); arrow != std::string_view::npos) {
        whole = std::string(trim(name.substr(0, arrow))) + "->" +
                std::string(trim(name.substr(arrow + 2)));
        name = trim(name.substr(0, arrow));
        known = &edges_;
        what = "dependency";
        a_what = "a dependency";
      } else if (const std::size_t slash = name.find(" /"); slash != std::string_view::npos) {
        whole = std::string(trim(name.substr(0, slash))) + " " +
                std::string(trim(name.substr(slash + 1)));
        name = trim(name.substr(0, slash));
        known = &endpoints_;
        what = "endpoint";
        a_what = "an endpoint";
      }
    }
    const auto found = index_.find(std::string(name));
    if (found != index_.end()) {
      if (known == nullptr || !listed_ ||
          std::find(known->begin(), known->end(), whole) != known->end())
        return found->second;
      problems.add(cell.line, cell.column,
                   "unknown " + what + " `" + whole + "` in `" + key + "` (not " + a_what +
                       " of the trace)" + did_you_mean(whole, *known));
      return -1;
    }
    std::string message = "unknown service `" + std::string(name) + "`";
    if (name != trim(cell.text))
      message += " in `" + key + "` `" + std::string(trim(cell.text)) + "`";
    // A detector's series name ("db:latency_p95_s") where the target ("db") is wanted.
    const std::size_t colon = name.rfind(':');
    if (colon != std::string_view::npos && index_.count(std::string(trim(name.substr(0, colon)))))
      message += " (not a service of the trace; `" + key + "` is the target the row is about, `" +
                 std::string(trim(name.substr(0, colon))) + "`, not a detector's series name)";
    else
      message += " (not a service of the trace)" + did_you_mean(std::string(name), names_);
    problems.add(cell.line, cell.column, message);
    return -1;
  }

 private:
  const std::vector<std::string>& names_;
  const std::vector<std::string>& edges_;
  const std::vector<std::string>& endpoints_;
  bool listed_;
  std::unordered_map<std::string, int> index_;
};

std::string text_or(const Record& record, const std::string& key, const std::string& fallback) {
  const auto found = record.cells.find(key);
  if (found == record.cells.end()) return fallback;
  const std::string_view text = trim(found->second.text);
  return text.empty() ? fallback : std::string(text);
}

constexpr const char* kDefaultDetector = "external";

// The record's detector (`external` without one); a name the score table gives its own rows
// ("all detectors", the baselines, "random (NAME)") is a problem at its cell: the table
// would show two rows of that name, and the JSON keep one.
std::string detector_of(const Record& record, Problems& problems) {
  std::string name = text_or(record, "detector", kDefaultDetector);
  if (name == "all detectors" || name == "random baseline" || name == "null baseline" ||
      (name.starts_with("random (") && name.ends_with(")"))) {
    const Cell& cell = record.cells.at("detector");
    problems.add(cell.line, cell.column,
                 "detector `" + name +
                     "` is a row the score table adds itself (all detectors, random baseline, "
                     "null baseline, random (NAME)): name it otherwise");
  }
  return name;
}

}  // namespace

std::vector<Alert> read_alerts_file(const std::string& path, const TraceForScoring& trace) {
  Problems problems(path);
  const Records records = read_records(path, problems);
  const ServiceLookup services(trace);
  const KeyChoice time_key(records, {"time", "time_ns", "t_ns"}, true, problems);
  const KeyChoice resolved_key(records, {"resolved", "resolved_ns"}, false, problems);
  if (!records.json && !records.header.contains("service") && !records.header.contains("target"))
    problems.add(records.header_line, 1, "missing column `service` or `target`");
  std::vector<Alert> alerts;
  for (const Record& record : records.rows) {
    Alert alert;
    bool good = true;
    const std::string time_name = time_key.of(record, problems);
    if (const Cell* cell = cell_of(record, time_name, problems)) {
      const std::optional<TimeValue> time =
          read_time(*cell, time_name, trace.simulated, false, problems);
      if (time) alert.time = time->time;
      good = good && time.has_value();
    } else {
      good = false;
    }

    const Cell* service = nullptr;
    const Cell* target = nullptr;
    if (const auto found = record.cells.find("service");
        found != record.cells.end() && !trim(found->second.text).empty())
      service = &found->second;
    if (const auto found = record.cells.find("target");
        found != record.cells.end() && !trim(found->second.text).empty())
      target = &found->second;
    if (service) {
      alert.service = services.of_target(*service, true, "service", problems);
    } else if (target) {
      alert.service = services.of_target(*target, false, "target", problems);
    } else if (records.json) {
      problems.add(record.line, 0, "missing key `service` or `target`");
    } else if (records.header.contains("service") || records.header.contains("target")) {
      problems.add(record.line, 1, "no `service` or `target` in this row");
    }
    good = good && alert.service >= 0;
    alert.target = target    ? std::string(trim(target->text))
                   : service ? std::string(trim(service->text))
                             : "";

    alert.detector = detector_of(record, problems);
    alert.metric = text_or(record, "metric", "");
    alert.severity = text_or(record, "severity", "");

    const std::string resolved_name = resolved_key.of(record, problems);
    if (const auto found = record.cells.find(resolved_name);
        !resolved_name.empty() && found != record.cells.end()) {
      const std::optional<TimeValue> resolved =
          read_time(found->second, resolved_name, trace.simulated, true, problems);
      if (resolved && resolved->present) {
        alert.resolved = resolved->time;
        if (good && alert.resolved < alert.time) {
          problems.add(found->second.line, found->second.column,
                       "`" + resolved_name + "` is before the alert's time");
        }
      }
    }
    if (good) alerts.push_back(std::move(alert));
  }
  problems.throw_if_any();
  return alerts;
}

std::vector<Alert> alerts_from_scores_file(const std::string& path, const TraceForScoring& trace,
                                           double threshold, std::vector<std::string>* detectors) {
  if (!std::isfinite(threshold)) throw InputError(path, "the threshold is not a finite number");
  Problems problems(path);
  const Records records = read_records(path, problems);
  const ServiceLookup services(trace);
  const KeyChoice time_key(records, {"time", "time_ns"}, true, problems);
  const KeyChoice series_key(records, {"series"}, true, problems);
  const KeyChoice score_key(records, {"score"}, true, problems);

  struct Row {
    SimTime time = 0;
    double score = 0;
  };
  struct Series {
    std::string detector, name;
    int service = -1;
    std::vector<Row> rows;
  };
  std::vector<Series> all_series;
  std::map<std::pair<std::string, std::string>, std::size_t> series_index;
  for (const Record& record : records.rows) {
    bool good = true;
    Row row;
    const std::string time_name = time_key.of(record, problems);
    if (const Cell* cell = cell_of(record, time_name, problems)) {
      const std::optional<TimeValue> time =
          read_time(*cell, time_name, trace.simulated, false, problems);
      if (time) row.time = time->time;
      good = good && time.has_value();
    } else {
      good = false;
    }
    const std::string score_name = score_key.of(record, problems);
    if (const Cell* cell = cell_of(record, score_name, problems)) {
      const std::optional<double> score = parse_number(cell->text);
      if (score) {
        row.score = *score;
      } else {
        problems.add(
            cell->line, cell->column,
            "bad score `" + std::string(trim(cell->text)) + "` (expected a finite number)");
        good = false;
      }
    } else {
      good = false;
    }
    int service = -1;
    const std::string series_name = series_key.of(record, problems);
    const Cell* series = cell_of(record, series_name, problems);
    if (series && trim(series->text).empty()) {
      problems.add(series->line, series->column, "empty `series`");
      series = nullptr;
    }
    if (series) service = services.of_target(*series, false, "series", problems);
    if (!good || service < 0) continue;
    const std::string detector = detector_of(record, problems);
    const std::string name(trim(series->text));
    auto [found, added] = series_index.try_emplace({detector, name}, all_series.size());
    if (added) all_series.push_back({detector, name, service, {}});
    all_series[found->second].rows.push_back(row);
  }
  problems.throw_if_any();
  if (detectors != nullptr)
    for (const Series& series : all_series)
      if (std::find(detectors->begin(), detectors->end(), series.detector) == detectors->end())
        detectors->push_back(series.detector);

  // (alert, the series' index): ordered by time, ties by the series' first appearance.
  std::vector<std::pair<Alert, std::size_t>> made;
  for (std::size_t s = 0; s < all_series.size(); ++s) {
    Series& series = all_series[s];
    std::stable_sort(series.rows.begin(), series.rows.end(),
                     [](const Row& a, const Row& b) { return a.time < b.time; });
    std::optional<std::size_t> open;  // index into `made` of the alert still firing
    for (const Row& row : series.rows) {
      const bool detection = row.score >= threshold;  // NAB's rule
      if (detection && !open) {
        open = made.size();
        made.push_back(
            {Alert{row.time, series.detector, series.service, "", "", -1, series.name}, s});
      } else if (!detection && open) {
        made[*open].first.resolved = row.time;
        open.reset();
      }
    }
  }
  std::stable_sort(made.begin(), made.end(), [](const auto& a, const auto& b) {
    return a.first.time != b.first.time ? a.first.time < b.first.time : a.second < b.second;
  });
  std::vector<Alert> alerts;
  alerts.reserve(made.size());
  for (auto& [alert, series] : made) alerts.push_back(std::move(alert));
  return alerts;
}

ScoreTable score_external_alerts(const TraceForScoring& trace, const std::vector<Alert>& alerts,
                                 const std::vector<std::string>& named) {
  const ScoringOptions options{.tolerance = 0, .tick = trace.tick};
  std::vector<int> services;
  for (std::size_t s = 0; s < trace.services.size(); ++s) services.push_back(static_cast<int>(s));
  std::vector<std::string> detectors = named;
  for (const Alert& alert : alerts)
    if (std::find(detectors.begin(), detectors.end(), alert.detector) == detectors.end())
      detectors.push_back(alert.detector);

  ScoreTable table;
  // An interrupted run's incidents whose cause had not begun are not counted, as score_table
  // counts them (it said 20 incidents where `dosim score` said 0).
  table.incidents = static_cast<std::size_t>(
      std::count_if(trace.incidents.begin(), trace.incidents.end(),
                    [&](const IncidentRecord& i) { return i.start < trace.simulated; }));
  table.alerts = alerts.size();
  for (const std::string& name : detectors) {
    std::vector<Alert> own;
    for (const Alert& alert : alerts)
      if (alert.detector == name) own.push_back(alert);
    const ScoresWithBaselines scores =
        score_with_baselines(trace.incidents, own, trace.simulated, services, trace.seed, options);
    table.rows.emplace_back(name, scores.detector);
    table.rows.emplace_back("random (" + name + ")", scores.random_baseline);
  }
  const ScoresWithBaselines all =
      score_with_baselines(trace.incidents, alerts, trace.simulated, services, trace.seed, options);
  table.rows.emplace_back("all detectors", all.detector);
  table.rows.emplace_back("random baseline", all.random_baseline);
  table.rows.emplace_back("null baseline", all.null_baseline);
  return table;
}

}  // namespace dosim

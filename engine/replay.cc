#include "replay.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "dosim/error.h"

namespace dosim {
namespace {

[[noreturn]] void fail(const std::string& file, int line, int column, const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file, line, column, message}});
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
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

// Up to nine digits of a fraction of a second, as nanoseconds; nullopt if not all digits.
std::optional<std::int64_t> fraction_nanos(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::int64_t nanos = 0;
  std::int64_t scale = 100000000;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    nanos += (c - '0') * scale;
    scale /= 10;
  }
  return nanos;
}

std::optional<SimTime> parse_date_time(std::string_view text) {
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
        if (text[at] != '.') return std::nullopt;
        const auto fraction = fraction_nanos(text.substr(at + 1));
        if (!fraction) return std::nullopt;
        nanos = *fraction;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  }
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60'000'000'000LL +
         static_cast<std::int64_t>(second) * 1'000'000'000LL + nanos;
}

// [-]SECONDS[.FRACTION] since 1970, exactly (no floating point).
std::optional<SimTime> parse_unix_seconds(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  if (whole.empty() || whole == "-") return std::nullopt;
  std::int64_t seconds = 0;
  const auto [end, error] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (error != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  if (seconds > 9'000'000'000LL || seconds < -9'000'000'000LL) return std::nullopt;
  std::int64_t nanos = 0;
  if (dot != std::string_view::npos) {
    const auto fraction = fraction_nanos(text.substr(dot + 1));
    if (!fraction) return std::nullopt;
    nanos = *fraction;
  }
  const bool negative = whole.front() == '-';
  return seconds * 1'000'000'000LL + (negative ? -nanos : nanos);
}

std::string read_text(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) fail(path, 0, 0, "no such file");
  if (!std::filesystem::is_regular_file(path, error)) fail(path, 0, 0, "not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, 0, 0, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string_view trim_csv_field(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

std::vector<CsvField> split_csv_line(std::string_view line) {
  std::vector<CsvField> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? line.size() : comma;
    std::string_view text = trim_csv_field(line.substr(start, end - start));
    int column = static_cast<int>(start) + 1;
    const std::size_t lead = line.substr(start, end - start).find_first_not_of(" \t");
    if (lead != std::string_view::npos) column += static_cast<int>(lead);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
      text = text.substr(1, text.size() - 2);
    fields.push_back({text, column});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

std::optional<SimTime> parse_replay_timestamp(std::string_view text) {
  text = trim_csv_field(text);
  if (!text.empty() && (text.back() == 'Z' || text.back() == 'z')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  if (text.size() >= 10 && text[4] == '-') return parse_date_time(text);
  return parse_unix_seconds(text);
}

ReplaySeries read_replay_csv(const std::string& path, const std::string& value_column,
                             ReplayOrder order) {
  const std::string text = read_text(path);
  return parse_replay_csv(text, path, value_column, order);
}

ReplaySeries parse_replay_csv(std::string_view text, const std::string& path,
                              const std::string& value_column, ReplayOrder order) {
  ReplaySeries series;
  series.file = path;
  std::size_t time_index = 0, value_index = 0, needed = 0;
  bool header_seen = false;
  int line_number = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(position, end - position);
    position = end + 1;
    ++line_number;
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // BOM
    if (trim_csv_field(line).empty()) continue;
    const std::vector<CsvField> fields = split_csv_line(line);
    if (!header_seen) {
      header_seen = true;
      time_index = fields.size();
      for (std::size_t i = 0; i < fields.size() && time_index == fields.size(); ++i)
        if (iequals(fields[i].text, "timestamp") || iequals(fields[i].text, "time")) time_index = i;
      if (time_index == fields.size()) time_index = 0;
      value_index = fields.size();
      std::vector<std::string> names;
      for (const CsvField& field : fields) names.emplace_back(field.text);
      if (!value_column.empty()) {
        for (std::size_t i = 0; i < fields.size(); ++i)
          if (fields[i].text == value_column && i != time_index) value_index = i;
        if (value_index == fields.size()) {
          const std::string close = closest_match(value_column, names);
          fail(path, line_number, 1,
               "no column `" + value_column + "` in the header" +
                   (close.empty() ? std::string() : " (did you mean `" + close + "`?)"));
        }
      } else {
        for (std::size_t i = 0; i < fields.size(); ++i)
          if (i != time_index && iequals(fields[i].text, "value")) value_index = i;
        if (value_index == fields.size() && fields.size() == 2) value_index = 1 - time_index;
        if (value_index == fields.size())
          fail(path, line_number, 1,
               fields.size() < 2 ? std::string("the header names one column; a value column is "
                                               "needed besides the timestamp")
                                 : "no `value` column and " + std::to_string(fields.size() - 1) +
                                       " columns besides the timestamp: name the one to replay");
      }
      series.column = std::string(fields[value_index].text);
      needed = std::max(time_index, value_index) + 1;
      continue;
    }
    if (fields.size() < needed)
      fail(path, line_number, 1,
           std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s") +
               ", the header needs at least " + std::to_string(needed));
    const CsvField& stamp = fields[time_index];
    const std::optional<SimTime> time = parse_replay_timestamp(stamp.text);
    if (!time)
      fail(path, line_number, stamp.column,
           "bad timestamp `" + std::string(stamp.text) +
               "` (expected YYYY-MM-DD HH:MM:SS or seconds since 1970)");
    if (order == ReplayOrder::kIncreasing && !series.times.empty() && *time <= series.times.back())
      fail(path, line_number, stamp.column,
           "timestamp `" + std::string(stamp.text) +
               "` does not come after the previous row's (line " +
               std::to_string(series.lines.back()) + ")");
    const CsvField& field = fields[value_index];
    double value = 0.0;
    const char* first = field.text.data();
    const char* last = first + field.text.size();
    if (first != last && *first == '+') ++first;
    const auto [ptr, error] = std::from_chars(first, last, value);
    if (field.text.empty() || error != std::errc() || ptr != last || !std::isfinite(value))
      fail(path, line_number, field.column,
           "bad value `" + std::string(field.text) + "` in column `" + series.column +
               "` (expected a finite number)");
    series.times.push_back(*time);
    series.values.push_back(value);
    series.lines.push_back(line_number);
  }
  if (!header_seen) fail(path, 0, 0, "empty file (no header line)");
  if (series.rows() < 2)
    fail(path, 0, 0,
         std::to_string(series.rows()) + " row" + (series.rows() == 1 ? "" : "s") +
             " of data; at least 2 are needed (the time step comes from them)");
  std::map<SimTime, std::size_t> counts;
  for (std::size_t i = 1; i < series.rows(); ++i)
    if (series.times[i] > series.times[i - 1]) ++counts[series.times[i] - series.times[i - 1]];
  if (counts.empty()) fail(path, 0, 0, "no two rows with increasing timestamps: no time step");
  std::size_t best = 0;
  for (const auto& [difference, count] : counts)
    if (count > best) {
      best = count;
      series.step = difference;
    }
  return series;
}

}  // namespace dosim

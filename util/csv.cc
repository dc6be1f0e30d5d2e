#include "util/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include "dosim/error.h"
#include "util/input_file.h"

namespace dosim {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
constexpr std::int64_t kMaxSeconds = 9'000'000'000;         // |ns| stays below 2^63
constexpr std::int64_t kMinMilliseconds = 100'000'000'000;  // 1e11: the s/ms boundary
constexpr std::int64_t kMaxMilliseconds = 9'000'000'000'000;

[[noreturn]] void fail(const std::string& file, int line, int column, const std::string& message) {
  throw InputError(std::vector<Diagnostic>{{file, line, column, message}});
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads `count` digits at `text[at]` into `value`; false when they are not all digits.
bool digits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!is_digit(text[i])) return false;
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

// A fraction's digits (1 to `max_digits`) as a count of units of 10^-max_digits.
std::optional<std::int64_t> fraction_units(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  std::int64_t units = 0;
  for (std::size_t i = 0; i < max_digits; ++i) {
    if (i < text.size() && !is_digit(text[i])) return std::nullopt;
    units = units * 10 + (i < text.size() ? text[i] - '0' : 0);
  }
  return units;
}

// A zone designator: "" (UTC), Z, +hh, +hh:mm, +hhmm (or -): its offset from UTC in ns.
std::optional<std::int64_t> zone_offset(std::string_view text) {
  if (text.empty() || text == "Z" || text == "z") return 0;
  if (text[0] != '+' && text[0] != '-') return std::nullopt;
  int hours = 0, minutes = 0;
  if (!digits(text, 1, 2, hours)) return std::nullopt;
  if (text.size() == 6 && text[3] == ':') {
    if (!digits(text, 4, 2, minutes)) return std::nullopt;
  } else if (text.size() == 5) {
    if (!digits(text, 3, 2, minutes)) return std::nullopt;
  } else if (text.size() != 3) {
    return std::nullopt;
  }
  if (hours > 23 || minutes > 59) return std::nullopt;
  const std::int64_t offset = (hours * 60LL + minutes) * 60 * kNanosPerSecond;
  return text[0] == '-' ? -offset : offset;
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][zone].
std::optional<std::int64_t> parse_date_time(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 10 || !digits(text, 0, 4, year) || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day))
    return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap(year) ? 1 : 0))
    return std::nullopt;
  std::int64_t nanos = 0;
  std::size_t at = 10;
  if (at < text.size() && (text[at] == ' ' || text[at] == 'T' || text[at] == 't')) {
    if (!digits(text, at + 1, 2, hour) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, minute))
      return std::nullopt;
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!digits(text, at + 1, 2, second)) return std::nullopt;
      at += 3;
      if (at < text.size() && text[at] == '.') {
        std::size_t end = at + 1;
        while (end < text.size() && is_digit(text[end])) ++end;
        const auto fraction = fraction_units(text.substr(at + 1, end - at - 1), 9);
        if (!fraction) return std::nullopt;
        nanos = *fraction;
        at = end;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  }
  const std::optional<std::int64_t> offset = zone_offset(text.substr(at));
  if (!offset) return std::nullopt;
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = ((days * 24 + hour) * 60 + minute) * 60 + second;
  // Before 1677 or after 2262 the nanoseconds do not fit in 64 bits: not a timestamp.
  std::int64_t result = 0;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &result) ||
      __builtin_add_overflow(result, nanos - *offset, &result))
    return std::nullopt;
  return result;
}

// [-]INTEGER[.FRACTION]: seconds below 1e11, milliseconds from 1e11 on; exact.
std::optional<std::int64_t> parse_unix_time(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  if (whole.empty() || whole == "-") return std::nullopt;
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(whole.data(), whole.data() + whole.size(), count);
  if (error != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  const bool milliseconds = count >= kMinMilliseconds;
  if (milliseconds ? count > kMaxMilliseconds : (count > kMaxSeconds || count < -kMaxSeconds))
    return std::nullopt;
  const std::int64_t unit = milliseconds ? 1'000'000 : kNanosPerSecond;
  std::int64_t nanos = 0;
  if (dot != std::string_view::npos) {
    const auto fraction = fraction_units(text.substr(dot + 1), milliseconds ? 6 : 9);
    if (!fraction) return std::nullopt;
    nanos = *fraction;
  }
  return count * unit + (whole.front() == '-' ? -nanos : nanos);
}

}  // namespace

CsvTable read_csv_file(const std::string& path, std::vector<Diagnostic>* problems) {
  return parse_csv(read_input_text(path, kMaxCsvBytes), path, problems);
}

CsvTable parse_csv(std::string_view text, const std::string& file,
                   std::vector<Diagnostic>* problems) {
  CsvTable table;
  table.file = file;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // byte-order mark
  bool header_seen = false;
  int line = 1;
  std::size_t line_start = 0;  // offset of the current line's first byte
  std::size_t at = 0;
  auto column_of = [&](std::size_t offset) { return static_cast<int>(offset - line_start) + 1; };
  while (at < text.size()) {
    std::size_t end_of_line = text.find('\n', at);
    if (end_of_line == std::string_view::npos) end_of_line = text.size();
    if (trim(text.substr(at, end_of_line - at)).empty()) {  // a blank line
      at = end_of_line + 1;
      line_start = at;
      ++line;
      continue;
    }
    CsvRow row;
    row.line = line;
    // A broken data row is handed back in `problems` (the header's is thrown: without it no
    // row reads): `broken` then drops the row.
    bool broken = false;
    const auto stop = [&](int at_line, int at_column, const std::string& message) {
      if (!problems || !header_seen) fail(file, at_line, at_column, message);
      problems->push_back({file, at_line, at_column, message});
      broken = true;
    };
    while (true) {  // one field per turn, `at` at its first byte
      const std::size_t start = at;
      while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
      CsvField field;
      field.line = line;
      if (at < text.size() && text[at] == '"') {
        field.column = column_of(at);
        for (++at;; ++at) {
          if (at >= text.size()) {
            stop(field.line, field.column, "quoted field not closed (a `\"` is missing)");
            break;
          }
          if (text[at] == '"') {
            if (at + 1 < text.size() && text[at + 1] == '"') {
              field.text += '"';
              ++at;
              continue;
            }
            ++at;
            break;
          }
          if (text[at] == '\n') {
            ++line;
            line_start = at + 1;
          }
          field.text += text[at];
        }
        if (broken) break;
        while (at < text.size() && blank(text[at])) ++at;
        if (at < text.size() && text[at] != ',' && text[at] != '\n') {
          stop(field.line, field.column,
               "text after the closing quote of a quoted field (a `\"` inside it must be "
               "doubled)");
          at = std::min(text.find('\n', at), text.size());  // the row's end: read on after it
          if (at < text.size()) {
            ++at;
            line_start = at;
            ++line;
          }
          break;
        }
      } else {
        std::size_t end = at;
        while (end < text.size() && text[end] != ',' && text[end] != '\n') ++end;
        field.text = std::string(trim(text.substr(at, end - at)));
        field.column = column_of(field.text.empty() ? start : at);
        at = end;
      }
      row.fields.push_back(std::move(field));
      if (at < text.size() && text[at] == ',') {
        ++at;
        continue;
      }
      if (at < text.size()) {  // '\n'
        ++at;
        line_start = at;
        ++line;
      }
      break;
    }
    if (broken) continue;
    if (header_seen) {
      table.rows.push_back(std::move(row));
    } else {
      table.header = std::move(row);
      header_seen = true;
    }
  }
  if (!header_seen) fail(file, 0, 0, "empty file (no header line)");
  return table;
}

void require_fields(const CsvTable& table, const CsvRow& row, std::size_t count) {
  // A row longer than the header is a value split by an unquoted comma (`1,234`) more often
  // than not: refused where a field beyond the header holds anything (a trailing comma is
  // kept).
  const std::size_t named = table.header.fields.size();
  for (std::size_t i = named; i < row.fields.size(); ++i)
    if (!row.fields[i].text.empty())
      fail(table.file, row.fields[i].line, row.fields[i].column,
           std::to_string(row.fields.size()) + " fields, the header names " +
               std::to_string(named) + ": a value holding a comma is quoted (\"1,234\")");
  if (row.fields.size() >= count) return;
  fail(table.file, row.line, 1,
       std::to_string(row.fields.size()) + " field" + (row.fields.size() == 1 ? "" : "s") +
           ", the header needs at least " + std::to_string(count));
}

double number_field(const CsvTable& table, const CsvRow& row, std::size_t index) {
  const CsvField& field = row.fields.at(index);
  if (const std::optional<double> value = parse_number(field.text)) return *value;
  std::string name = std::to_string(index + 1);  // a column the header does not name: its number
  if (index < table.header.fields.size()) name = table.header.fields[index].text;
  fail(table.file, field.line, field.column,
       "bad value `" + field.text + "` in column `" + name + "` (expected a finite number)");
}

std::int64_t timestamp_field(const CsvTable& table, const CsvRow& row, std::size_t index) {
  const CsvField& field = row.fields.at(index);
  if (const std::optional<std::int64_t> time = parse_timestamp(field.text)) return *time;
  fail(table.file, field.line, field.column,
       "bad timestamp `" + field.text + "` (expected " + std::string(kTimestampForms) + ")");
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return std::nullopt;  // "+-1"
  }
  if (text.empty()) return std::nullopt;
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  text = trim(text);
  if (text.size() >= 10 && text[4] == '-') return parse_date_time(text);
  return parse_unix_time(text);
}

void RowProblems::add(Diagnostic problem) {
  if (said_.size() < kMost)
    said_.push_back(std::move(problem));
  else if (unsaid_++ == 0)
    first_unsaid_ = std::move(problem);
}

std::vector<Diagnostic> RowProblems::take() {
  if (unsaid_ > 0)
    said_.push_back({first_unsaid_.file, first_unsaid_.line, first_unsaid_.column,
                     "and " + std::to_string(unsaid_) + " more bad rows from here", false,
                     unsaid_});  // counted in the front end's total
  unsaid_ = 0;
  return std::move(said_);
}

}  // namespace dosim

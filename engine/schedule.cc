#include "schedule.h"

#include <cctype>
#include <charconv>
#include <sstream>

namespace dosim {
namespace {

struct Field {
  const char* name;
  int low;
  int high;
  const char* const* names = nullptr;  // the value's names from `low` on (JAN, SUN), if any
};
constexpr const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
constexpr const char* kWeekdays[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};
constexpr Field kFields[] = {{"minute", 0, 59},
                             {"hour", 0, 23},
                             {"day-of-month", 1, 31},
                             {"month", 1, 12, kMonths},
                             {"day-of-week", 0, 7, kWeekdays}};

std::optional<int> number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A field's value: a number, or one of its names in any case (cron's JAN-DEC, SUN-SAT).
std::optional<int> value_of(std::string_view text, const Field& field) {
  if (field.names != nullptr && text.size() == 3)
    for (int i = 0; field.names[i] != nullptr; ++i) {
      bool same = true;
      for (int k = 0; k < 3; ++k)
        same = same && std::toupper(static_cast<unsigned char>(text[k])) == field.names[i][k];
      if (same) return field.low + i;
    }
  return number(text);
}

// Fills `allowed` (indexed by value) from one field; false with `error` set on a mistake.
bool parse_field(const std::string& text, const Field& field, std::vector<bool>& allowed,
                 std::string& error) {
  allowed.assign(static_cast<std::size_t>(field.high + 1), false);
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    std::string_view range = item;
    int step = 1;
    if (const auto slash = range.find('/'); slash != std::string_view::npos) {
      const auto parsed = number(range.substr(slash + 1));
      if (!parsed || *parsed <= 0) {
        error = "bad step in the " + std::string(field.name) + " field '" + text + "'";
        return false;
      }
      step = *parsed;
      range = range.substr(0, slash);
    }
    int low = field.low, high = field.high;
    if (range != "*") {
      const auto dash = range.find('-');
      const auto first = value_of(range.substr(0, dash), field);
      const auto last =
          dash == std::string_view::npos ? first : value_of(range.substr(dash + 1), field);
      if (!first || !last || *first < field.low || *last > field.high) {
        error = "the " + std::string(field.name) + " field '" + text + "' must hold values in " +
                std::to_string(field.low) + "-" + std::to_string(field.high);
        return false;
      }
      if (*first > *last) {
        error = "the " + std::string(field.name) + " field '" + text + "' has a range '" +
                std::string(range) + "' that runs backwards: write it low-high";
        return false;
      }
      low = *first;
      high = dash == std::string_view::npos && step > 1 ? field.high : *last;
    }
    for (int value = low; value <= high; value += step) allowed[value] = true;
  }
  if (item.empty() && !text.empty() && text.back() == ',') {
    error = "empty item in the " + std::string(field.name) + " field '" + text + "'";
    return false;
  }
  return true;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

}  // namespace

CalendarTime calendar_time(SimTime t) {
  t = std::max<SimTime>(t, 0);
  std::int64_t day = t / kDay;
  CalendarTime out;
  out.minute_of_day = static_cast<int>((t % kDay) / kMinute);
  out.weekday = static_cast<int>((day + 1) % 7);  // day 0 is a Monday
  // Whole 400-year cycles (146,097 days) first, so that a far time costs no more.
  out.year = 2024 + static_cast<int>(day / 146097) * 400;
  day %= 146097;
  for (;;) {
    const int length = is_leap(out.year) ? 366 : 365;
    if (day < length) break;
    day -= length;
    ++out.year;
  }
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int month = 0;
  for (;; ++month) {
    out.days_in_month = kMonthDays[month] + (month == 1 && is_leap(out.year) ? 1 : 0);
    if (day < out.days_in_month) break;
    day -= out.days_in_month;
  }
  out.month = month + 1;
  out.day_of_month = static_cast<int>(day) + 1;
  return out;
}

std::optional<CronExpression> CronExpression::parse(const std::string& text, std::string& error) {
  std::stringstream words(text);
  std::vector<std::string> fields;
  for (std::string word; words >> word;) fields.push_back(word);
  if (!fields.empty() && (fields[0].rfind("CRON_TZ=", 0) == 0 || fields[0].rfind("TZ=", 0) == 0)) {
    error = "a time zone (" + fields[0] +
            ") is not taken: the simulated calendar is UTC (t = 0 is Monday 1 January 2024, "
            "00:00 UTC); write the times in UTC";
    return std::nullopt;
  }
  if (fields.size() != 5) {
    error = "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got " +
            std::to_string(fields.size());
    return std::nullopt;
  }
  CronExpression cron;
  std::vector<bool>* targets[] = {&cron.minute_, &cron.hour_, &cron.day_, &cron.month_,
                                  &cron.weekday_};
  for (int i = 0; i < 5; ++i)
    if (!parse_field(fields[i], kFields[i], *targets[i], error)) return std::nullopt;
  if (cron.weekday_[7]) cron.weekday_[0] = true;  // 7 is Sunday too
  cron.day_restricted_ = fields[2] != "*";
  cron.weekday_restricted_ = fields[4] != "*";
  return cron;
}

bool CronExpression::matches(SimTime t) const {
  const std::int64_t minute_of_run = t / kMinute;
  const int minute = static_cast<int>(minute_of_run % 60);
  const int hour = static_cast<int>((minute_of_run / 60) % 24);
  if (!minute_[minute] || !hour_[hour]) return false;
  const CalendarTime date = calendar_time(t);
  if (!month_[date.month]) return false;
  const bool day_ok = day_[date.day_of_month];
  const bool weekday_ok = weekday_[date.weekday];
  if (day_restricted_ && weekday_restricted_) return day_ok || weekday_ok;
  return day_ok && weekday_ok;
}

std::vector<SimTime> CronExpression::times(SimTime from, SimTime until, std::size_t limit) const {
  std::vector<SimTime> found;
  SimTime t = (from + kMinute - 1) / kMinute * kMinute;
  for (; t < until && found.size() < limit; t += kMinute)
    if (matches(t)) found.push_back(t);
  return found;
}

}  // namespace dosim

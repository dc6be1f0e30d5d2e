// Repeating faults: `every` an interval, or at the minutes a cron expression names, both
// evaluated in simulated time.
//
// The simulated calendar starts at t = 0 on Monday, 1 January 2024, 00:00 (a leap year
// that starts on a Monday), so day-of-week and day-of-month fields mean what they say for
// runs of any length. Cron expressions have the five standard fields
// (minute hour day-of-month month day-of-week), each `*`, a number, a range `a-b`, a step
// `*/n` or `a-b/n`, or a comma-separated list of these; day-of-week 0 and 7 are Sunday; months
// and days of the week may be named (JAN-DEC, SUN-SAT, any case). As in cron, when both day
// fields are restricted a day matches if either does.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dosim/engine/sim_time.h"

namespace dosim {

// A simulated time (t >= 0) on the calendar (UTC).
struct CalendarTime {
  int year = 2024;
  int month = 1;         // 1..12
  int day_of_month = 1;  // 1..days_in_month
  int days_in_month = 31;
  int weekday = 1;  // 0 = Sunday
  int minute_of_day = 0;
};
CalendarTime calendar_time(SimTime t);

class CronExpression {
 public:
  // Parses `text`; on failure returns nullopt and sets `error` to a message for the user.
  static std::optional<CronExpression> parse(const std::string& text, std::string& error);

  // Whether the minute starting at simulated time t (a multiple of a minute) matches.
  bool matches(SimTime t) const;

  // Matching minutes in [from, until), at most `limit` of them.
  std::vector<SimTime> times(SimTime from, SimTime until, std::size_t limit) const;

 private:
  std::vector<bool> minute_, hour_, day_, month_, weekday_;
  bool day_restricted_ = false;
  bool weekday_restricted_ = false;
};

}  // namespace dosim

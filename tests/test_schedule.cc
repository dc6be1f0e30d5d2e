// Repeating faults: cron expressions in simulated time (t = 0 is Monday 1 January 2024,
// 00:00) and `every` intervals, expanded into one fault per occurrence.
#include <catch2/catch.hpp>
#include <string>

#include "dosim/engine/scenario_loader.h"
#include "engine/schedule.h"

using namespace dosim;

namespace {

CronExpression cron(const std::string& text) {
  std::string error;
  auto parsed = CronExpression::parse(text, error);
  INFO(error);
  REQUIRE(parsed);
  return *parsed;
}

SimTime first(const std::string& text) {
  const auto times = cron(text).times(0, 400 * kDay, 1);
  REQUIRE(times.size() == 1);
  return times.front();
}

}  // namespace

TEST_CASE("cron fields follow the simulated calendar", "[schedule]") {
  CHECK(first("0 2 * * *") == 2 * kHour);
  CHECK(first("30 9 * * 6") == 5 * kDay + 9 * kHour + 30 * kMinute);  // Saturday 6 January
  CHECK(first("0 0 * * 0") == 6 * kDay);                              // Sunday
  CHECK(first("0 0 * * 7") == 6 * kDay);                              // 7 is Sunday too
  CHECK(first("0 0 1 2 *") == 31 * kDay);                             // 1 February
  CHECK(first("0 0 29 2 *") == 59 * kDay);                            // 2024 is a leap year
  CHECK(first("0 0 1 1 *") == 0);
  CHECK(cron("0 0 1 1 *").times(kMinute, 400 * kDay, 1).front() == 366 * kDay);  // 2025
}

TEST_CASE("cron lists, ranges and steps, restricted day fields match either", "[schedule]") {
  const auto quarters = cron("*/15 * * * *").times(0, kHour, 10);
  CHECK(quarters == std::vector<SimTime>{0, 15 * kMinute, 30 * kMinute, 45 * kMinute});
  const auto office = cron("0 9-17/4 * * 1-5").times(0, 2 * kDay, 10);
  CHECK(office == std::vector<SimTime>{9 * kHour, 13 * kHour, 17 * kHour, kDay + 9 * kHour,
                                       kDay + 13 * kHour, kDay + 17 * kHour});
  CHECK(cron("0 0 6,7 * *").times(0, 10 * kDay, 5) == std::vector<SimTime>{5 * kDay, 6 * kDay});
  // Day-of-month 13 or Friday, as cron has it: Friday 5 January comes first.
  CHECK(first("0 0 13 * 5") == 4 * kDay);
  // Months and days of the week by name, in any case, as cron and Chaos Mesh read them.
  CHECK(cron("0 9 * JAN MON-FRI").times(0, 2 * kDay, 10) == cron("0 9 * 1 1-5").times(0, 2 * kDay, 10));
  CHECK(first("0 0 1 feb *") == 31 * kDay);
  CHECK(first("0 0 * * sun") == 6 * kDay);
}

TEST_CASE("bad cron expressions are explained", "[schedule]") {
  std::string error;
  CHECK_FALSE(CronExpression::parse("0 2 * *", error));
  CHECK(error ==
        "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got 4");
  // Chaos Mesh's parser takes a time zone first; the simulated calendar has none but UTC.
  CHECK_FALSE(CronExpression::parse("CRON_TZ=Europe/Paris 0 * * * *", error));
  CHECK(error ==
        "a time zone (CRON_TZ=Europe/Paris) is not taken: the simulated calendar is UTC (t = 0 "
        "is Monday 1 January 2024, 00:00 UTC); write the times in UTC");
  CHECK_FALSE(CronExpression::parse("0 25 * * *", error));
  CHECK(error == "the hour field '25' must hold values in 0-23");
  CHECK_FALSE(CronExpression::parse("*/0 * * * *", error));
  CHECK(error == "bad step in the minute field '*/0'");
  CHECK_FALSE(CronExpression::parse("5-1 * * * *", error));
  CHECK(error == "the minute field '5-1' has a range '5-1' that runs backwards: write it low-high");
  CHECK_FALSE(CronExpression::parse("0 0 * JUNE *", error));  // names are three letters
  CHECK(error == "the month field 'JUNE' must hold values in 1-12");
}

TEST_CASE("a scheduled fault becomes one fault per occurrence", "[schedule][loader]") {
  const Scenario scenario = parse_scenario(R"(
name: s
duration: 2d
services: [{name: web}]
faults:
  - {name: nightly, kind: error, target: {service: web}, start: 0s, duration: 10m,
     schedule: {cron: "0 3 * * *"}}
  - {name: hourly, kind: error, target: {service: web}, start: 30m, duration: 1m,
     schedule: {every: 1h, until: 4h}}
  - {name: thrice, kind: error, target: {service: web}, start: 0s, duration: 1m,
     schedule: {every: 10m, count: 3}}
  - {name: once, kind: error, target: {service: web}, start: 0s, duration: 5m,
     schedule: {cron: "0 12 * * *", count: 1}}
)",
                                           "s.yaml");
  std::vector<std::pair<std::string, SimTime>> faults;
  for (const FaultSpec& f : scenario.faults) faults.emplace_back(f.name, f.start);
  CHECK(faults == std::vector<std::pair<std::string, SimTime>>{{"nightly#1", 3 * kHour},
                                                               {"nightly#2", kDay + 3 * kHour},
                                                               {"hourly#1", 30 * kMinute},
                                                               {"hourly#2", 90 * kMinute},
                                                               {"hourly#3", 150 * kMinute},
                                                               {"hourly#4", 210 * kMinute},
                                                               {"thrice#1", 0},
                                                               {"thrice#2", 10 * kMinute},
                                                               {"thrice#3", 20 * kMinute},
                                                               // one occurrence: its own
                                                               // name, at the cron's time
                                                               {"once", 12 * kHour}});
}

TEST_CASE("schedule mistakes are reported at their position", "[schedule][loader]") {
  try {
    parse_scenario(R"(
name: s
duration: 1d
services: [{name: web}]
faults:
  - {kind: error, target: {service: web}, start: 0s, duration: 1m, schedule: {cron: "0 2 * *"}}
  - {kind: error, target: {service: web}, start: 0s, duration: 1m, schedule: {every: 1h, cron: "* * * * *"}}
  - {kind: error, target: {service: web}, start: 0s, duration: 1m, schedule: {cron: "0 0 30 2 *"}}
)",
                   "s.yaml");
    FAIL("no error");
  } catch (const InputError& error) {
    const auto& d = error.diagnostics();
    REQUIRE(d.size() == 3);
    CHECK(d[0].line == 6);
    CHECK(d[0].message ==
          "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got 4");
    CHECK(d[1].message == "a schedule has exactly one of 'every' and 'cron'");
    CHECK(d[2].message == "'0 0 30 2 *' never matches between 'start' (0s) and 1d");
  }
}

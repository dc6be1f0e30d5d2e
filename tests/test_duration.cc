// Durations in scenarios: parse_duration() reads what users write, format_duration() writes
// what messages show, and the two agree.
#include <catch2/catch.hpp>

#include "dosim/engine/sim_time.h"

namespace dosim {

TEST_CASE("durations parse with every unit", "[duration]") {
  CHECK(parse_duration("10ns") == 10);
  CHECK(parse_duration("3us") == 3 * kMicrosecond);
  CHECK(parse_duration("250ms") == 250 * kMillisecond);
  CHECK(parse_duration("90s") == 90 * kSecond);
  CHECK(parse_duration("5m") == 5 * kMinute);
  CHECK(parse_duration("5min") == 5 * kMinute);
  CHECK(parse_duration("2h") == 2 * kHour);
  CHECK(parse_duration("7d") == 7 * kDay);
  CHECK(parse_duration("1w") == kWeek);
}

TEST_CASE("durations combine parts and accept fractions", "[duration]") {
  CHECK(parse_duration("1h30m") == 90 * kMinute);
  CHECK(parse_duration("1d2h3m4s") == kDay + 2 * kHour + 3 * kMinute + 4 * kSecond);
  CHECK(parse_duration("1.5h") == 90 * kMinute);
  CHECK(parse_duration("0.25s") == 250 * kMillisecond);
}

TEST_CASE("a bare number is seconds", "[duration]") {
  CHECK(parse_duration("0") == 0);
  CHECK(parse_duration("90") == 90 * kSecond);
  CHECK(parse_duration("0.5") == 500 * kMillisecond);
  CHECK(parse_duration("  15s  ") == 15 * kSecond);
}

TEST_CASE("malformed, negative and overflowing durations are rejected", "[duration]") {
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("   "));
  CHECK_FALSE(parse_duration("abc"));
  CHECK_FALSE(parse_duration("5x"));
  CHECK_FALSE(parse_duration("5 parsecs"));
  CHECK_FALSE(parse_duration("-5s"));
  CHECK_FALSE(parse_duration("1h30"));  // a bare number only stands alone
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("nan"));
  CHECK_FALSE(parse_duration("inf"));
  CHECK_FALSE(parse_duration("1000000w"));  // beyond int64 nanoseconds
}

TEST_CASE("a duration's units come from the largest down, each once", "[duration]") {
  CHECK_FALSE(parse_duration("1h1h"));  // a typo for 1h1m, not 2h
  CHECK_FALSE(parse_duration("30m1h"));
  CHECK_FALSE(parse_duration("1m1min"));  // the same unit twice
  CHECK(parse_duration("1w1d1h1m1s1ms1us1ns") ==
        kWeek + kDay + kHour + kMinute + kSecond + kMillisecond + kMicrosecond + 1);
}

TEST_CASE("durations format compactly", "[duration]") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(7 * kDay) == "7d");
  CHECK(format_duration(90 * kMinute) == "1h30m");
  CHECK(format_duration(250 * kMillisecond) == "250ms");
  CHECK(format_duration(1500 * kMillisecond) == "1500ms");
  CHECK(format_duration(kMinute + 500 * kMillisecond) == "1m500ms");
  CHECK(format_duration(3 * kMicrosecond) == "3us");
  CHECK(format_duration(5) == "5ns");
  CHECK(format_duration(-3 * kSecond) == "-3s");
  // Mixed small units each keep their own (1ms1001ns read as a different time).
  CHECK(format_duration(kMillisecond + kMicrosecond + 1) == "1ms1us1ns");
  CHECK(format_duration(kMinute + kMillisecond + kMicrosecond + 1) == "1m1ms1us1ns");
  CHECK(format_duration(2 * kSecond + 7) == "2s7ns");
}

TEST_CASE("formatted durations parse back to the same time", "[duration]") {
  for (SimTime t : {SimTime{1}, 999 * kMicrosecond, kSecond + kMillisecond, 59 * kSecond,
                    kMillisecond + kMicrosecond + 1, kHour + 3 * kMicrosecond + 999,
                    kDay + 2 * kHour + 3 * kMinute + 4 * kSecond + 5 * kMillisecond, 30 * kDay})
    CHECK(parse_duration(format_duration(t)) == t);
}

TEST_CASE("time helpers convert between units", "[duration]") {
  CHECK(seconds(1.5) == 1500 * kMillisecond);
  CHECK(minutes(2) == 2 * kMinute);
  CHECK(hours(0.5) == 30 * kMinute);
  CHECK(days(1) == kDay);
  CHECK(to_seconds(250 * kMillisecond) == Approx(0.25));
}

}  // namespace dosim

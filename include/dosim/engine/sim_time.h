// Simulated time.
//
// dosim's clock counts int64 nanoseconds from the start of a run (t = 0). It never reads the
// wall clock: simulated time advances only when the engine pops an event. int64 ns covers
// about 292 years; a duration read from input is at most kMaxDuration (100 years), so the
// sum of two is safe, and longer sums saturate (time_sum, time_product).
//
// Durations in scenarios are written with units ("250ms", "90s", "5m", "1h30m", "7d") and
// parsed by parse_duration(); a bare number means seconds. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dosim {

using SimTime = std::int64_t;  // nanoseconds of simulated time

inline constexpr SimTime kNanosecond = 1;
inline constexpr SimTime kMicrosecond = 1000;
inline constexpr SimTime kMillisecond = 1000 * kMicrosecond;
inline constexpr SimTime kSecond = 1000 * kMillisecond;
inline constexpr SimTime kMinute = 60 * kSecond;
inline constexpr SimTime kHour = 60 * kMinute;
inline constexpr SimTime kDay = 24 * kHour;
inline constexpr SimTime kWeek = 7 * kDay;
// The longest duration dosim takes from input (a scenario, a script, a command line).
inline constexpr SimTime kMaxDuration = 36500 * kDay;  // 100 years
inline constexpr SimTime kTimeMax = INT64_MAX;

// a + b and k * t, saturated at kTimeMax. REQUIRES: a, b, k, t >= 0.
constexpr SimTime time_sum(SimTime a, SimTime b) { return b > kTimeMax - a ? kTimeMax : a + b; }
constexpr SimTime time_product(std::int64_t k, SimTime t) {
  return t != 0 && k > kTimeMax / t ? kTimeMax : k * t;
}

constexpr SimTime seconds(double s) {
  return static_cast<SimTime>(s * 1e9 + (s >= 0 ? 0.5 : -0.5));
}
constexpr SimTime minutes(double m) { return seconds(m * 60.0); }
constexpr SimTime hours(double h) { return seconds(h * 3600.0); }
constexpr SimTime days(double d) { return seconds(d * 86400.0); }
constexpr double to_seconds(SimTime t) { return static_cast<double>(t) * 1e-9; }
// Seconds of a time correctly rounded, for what users read (31 s is 31, not to_seconds'
// 31.000000000000004); the model keeps to_seconds, whose products its results are made of.
constexpr double exact_seconds(SimTime t) { return static_cast<double>(t) / 1e9; }

// Parses "1h30m", "250ms", "90s", "7d", "1.5h", "0" or a bare number of seconds.
// Units: ns, us, ms, s, m, h, d, w, each at most once and from the largest down ("1h1h" and
// "30m1h" are refused). Returns nullopt on anything else (empty text, unknown unit, longer
// than kMaxDuration: then `too_long`, when given, is set). Negative durations
// are rejected: callers report them as user errors.
std::optional<SimTime> parse_duration(std::string_view text, bool* too_long = nullptr);

// Formats a duration compactly and exactly enough for messages: "7d", "1h30m", "250ms".
std::string format_duration(SimTime t);

}  // namespace dosim

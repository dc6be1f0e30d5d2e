// Prometheus's alert states over a rule's evaluations (firing_windows) and its durations,
// against hand-worked timelines: pending for `for`, firing, resolved at the first
// evaluation that does not return the label set; a pending alert that stops is dropped.
#include <catch2/catch.hpp>

#include "dosim/analysis/prometheus_rules.h"

using namespace dosim;

TEST_CASE("firing_windows applies for: as Prometheus does", "[prometheus_rules]") {
  const std::vector<SimTime> times = {60 * kSecond,  120 * kSecond, 180 * kSecond, 240 * kSecond,
                                      300 * kSecond, 360 * kSecond, 420 * kSecond};
  using Windows = std::vector<std::pair<SimTime, SimTime>>;
  // True at 2..5: active at 120 s, firing at 240 s (2 minutes on), resolved at 360 s.
  const std::vector<bool> present = {false, true, true, true, true, false, true};
  CHECK(firing_windows(times, present, 2 * kMinute) == Windows{{240 * kSecond, 360 * kSecond}});
  // for: 0 fires at once; the last episode never resolves.
  CHECK(firing_windows(times, present, 0) ==
        Windows{{120 * kSecond, 360 * kSecond}, {420 * kSecond, -1}});
  // Shorter than for: pending, then dropped: nothing fires.
  CHECK(firing_windows(times, {true, true, false, true, false, false, false}, 2 * kMinute).empty());
}

TEST_CASE("Prometheus durations", "[prometheus_rules]") {
  CHECK(parse_prometheus_duration("5m") == 5 * kMinute);
  CHECK(parse_prometheus_duration("1h30m") == 90 * kMinute);
  CHECK(parse_prometheus_duration("250ms") == 250 * kMillisecond);
  CHECK(parse_prometheus_duration("1d") == kDay);
  CHECK(parse_prometheus_duration("2w") == 14 * kDay);
  CHECK(parse_prometheus_duration("5") == -1);
  CHECK(parse_prometheus_duration("m") == -1);
  CHECK(parse_prometheus_duration("3x") == -1);
}

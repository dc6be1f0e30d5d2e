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
  // A bare 0, as Prometheus and promtool take it (`for: 0`, `interval: 0`); 00 is not.
  CHECK(parse_prometheus_duration("0") == 0);
  CHECK(parse_prometheus_duration("00") == -1);
  CHECK(parse_prometheus_duration("m") == -1);
  CHECK(parse_prometheus_duration("3x") == -1);
  // Units from the largest down, each once, as model.ParseDuration's pattern has them.
  CHECK(parse_prometheus_duration("1y2w3d4h5m6s7ms") == 365 * kDay + 14 * kDay + 3 * kDay +
                                                            4 * kHour + 5 * kMinute + 6 * kSecond +
                                                            7 * kMillisecond);
  CHECK(parse_prometheus_duration("1m1h") == -1);
  CHECK(parse_prometheus_duration("1h1h") == -1);
  CHECK(parse_prometheus_duration("1.5h") == -1);
  CHECK(parse_prometheus_duration("500us") == -1);
}

TEST_CASE("a group's limit fails the evaluations with more alerts and drops them all",
          "[prometheus_rules]") {
  const std::vector<SimTime> times = {60 * kSecond,  120 * kSecond, 180 * kSecond,
                                      240 * kSecond, 300 * kSecond, 360 * kSecond};
  using Windows = std::vector<std::pair<SimTime, SimTime>>;
  // a at every evaluation; b at 2 and 3: limit 1 fails those two.
  std::vector<std::vector<bool>> present = {{true, true, true, true, true, true},
                                            {false, true, true, false, false, false}};
  CHECK(apply_alert_limit(present, 1) == std::vector<std::size_t>{1, 2});
  CHECK(present[0] == std::vector<bool>{true, false, false, true, true, true});
  CHECK(present[1] == std::vector<bool>(6, false));
  // a fired at once (for: 0), ends at the failed evaluation and fires again after it.
  CHECK(firing_windows(times, present[0], 0) ==
        Windows{{60 * kSecond, 120 * kSecond}, {240 * kSecond, -1}});
  // Under for: 2m the alert starts pending again after the failures.
  CHECK(firing_windows(times, present[0], 2 * kMinute) == Windows{{360 * kSecond, -1}});
  // 0 is no limit; a limit the evaluations stay within changes nothing.
  std::vector<std::vector<bool>> both = {{true, true}, {true, true}};
  CHECK(apply_alert_limit(both, 0).empty());
  CHECK(apply_alert_limit(both, 2).empty());
  CHECK(both == std::vector<std::vector<bool>>{{true, true}, {true, true}});
}

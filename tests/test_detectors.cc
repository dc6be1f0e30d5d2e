// Detectors and the runner: threshold and EWMA on hand-made series, the `for` persistence
// and once-per-episode alerts, the default set, and bad kinds or parameters reported at
// the scenario position.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "detectors/runner.h"
#include "dosim/detectors/detector.h"
#include "dosim/error.h"
#include "simulation_test_support.h"

using namespace dosim;
using namespace dosim::testing;

namespace {

DetectorSpec spec(const std::string& kind, std::vector<std::pair<std::string, double>> params) {
  DetectorSpec s;
  s.name = kind;
  s.kind = kind;
  s.metrics = {"error_ratio"};
  s.params = std::move(params);
  return s;
}

const char* kTwo = R"(
name: two
duration: 10m
services:
  - {name: a}
  - {name: b}
traffic:
  - {entry: a, base_rps: 10, noise: 0}
)";

// A frame with the given error ratios of services a and b.
Frame frame_with(std::int64_t tick, float a, float b) {
  Frame frame;
  frame.resize(2, 0, 0);
  frame.tick = tick;
  frame.time = (tick + 1) * kSecond;
  frame.service(ServiceMetric::kErrorRatio)[0] = a;
  frame.service(ServiceMetric::kErrorRatio)[1] = b;
  return frame;
}

}  // namespace

TEST_CASE("threshold scores the value and flags it above its limit", "[detectors]") {
  auto detector = make_detector(spec("threshold", {{"above", 0.1}}), 2, "t.yaml");
  std::vector<float> scores(2);
  detector->step(std::vector<float>{0.05f, 0.2f}, scores);
  CHECK(scores == std::vector<float>{0.05f, 0.2f});
  CHECK(detector->limit() == Approx(0.1));
}

TEST_CASE("ewma scores |x - mean| / sd before learning x", "[detectors]") {
  // alpha 0.5, no warm-up: mean and variance by hand.
  auto detector = make_detector(spec("ewma", {{"alpha", 0.5}, {"warmup", 0}}), 1, "t.yaml");
  std::vector<float> score(1);
  detector->step(std::vector<float>{10.0f}, score);  // mean 10, var 0: score 0
  CHECK(score[0] == 0.0f);
  detector->step(std::vector<float>{12.0f}, score);  // var still 0 before: 0; then mean 11, var 1
  CHECK(score[0] == 0.0f);
  detector->step(std::vector<float>{14.0f}, score);  // |14 - 11| / 1 = 3
  CHECK(score[0] == Approx(3.0));
}

TEST_CASE("burn_rate pairs a long and a short window per burn rate", "[detectors]") {
  // Budget 1 % (objective 99); fast pair 4 s / 2 s at 10x, slow pair 8 s / 4 s at 5x.
  auto detector = make_detector(spec("burn_rate", {{"objective", 99},
                                                   {"long_fast", 4},
                                                   {"short_fast", 2},
                                                   {"rate_fast", 10},
                                                   {"long_slow", 8},
                                                   {"short_slow", 4},
                                                   {"rate_slow", 5}}),
                                1, "t.yaml", kSecond);
  std::vector<float> score(1);
  const std::vector<float> errors = {0, 0, 0, 0, 0.2f, 0.2f};
  std::vector<double> scores;
  for (float e : errors) {
    detector->step(std::vector<float>{e}, score);
    scores.push_back(score[0]);
  }
  CHECK(scores[3] == Approx(0.0));
  // tick 4: fast min(burn 5 over 4 s, 10 over 2 s) / 10 = 0.5; slow min(4, 5) / 5 = 0.8.
  CHECK(scores[4] == Approx(0.8));
  // tick 5: fast min(10, 20) / 10 = 1; slow min(6.67 over 6 values, 10) / 5 = 1.33.
  CHECK(scores[5] == Approx(0.4 / 6 / 0.01 / 5));
  CHECK(detector->limit() == 1.0);
  // A short window longer than its long one (the pair swapped) is an error at the long one,
  // once; a long one shorter than its short one's default says the default.
  CHECK_THROWS_WITH(make_detector(spec("burn_rate", {{"long_fast", 10}, {"short_fast", 60}}), 1,
                                  "t.yaml", kSecond),
                    "t.yaml: detector 'burn_rate': 'long_fast' (10 s) is shorter than 'short_fast' "
                    "(60 s): swapped?");
  CHECK_THROWS_WITH(
      make_detector(spec("burn_rate", {{"long_slow", 600}}), 1, "t.yaml", kSecond),
      "t.yaml: detector 'burn_rate': 'long_slow' (600 s) is shorter than 'short_slow' (1800 s, its "
      "default)");
}

TEST_CASE("regression predicts latency from the rate with a line fitted on training",
          "[detectors]") {
  // One edge: rates 1..4, latencies 3.1, 4.9, 7.1, 8.9 during 4 s of training. By hand:
  // b = 9.8 / 5 = 1.96, a = 6 - 1.96 x 2.5 = 1.1, residuals +-0.04, +-0.12, sd =
  // sqrt(0.032 / 2). At rate 5 the prediction is 10.9; 11.9 is 1 / sd away.
  DetectorSpec regression = spec("regression", {{"training", 4}});
  regression.family = "edge";
  regression.metrics = {"rps", "latency_p95_s"};
  auto detector = make_detector(regression, 2, "t.yaml", kSecond);
  std::vector<float> scores(2);
  const std::vector<std::pair<float, float>> training = {
      {1, 3.1f}, {2, 4.9f}, {3, 7.1f}, {4, 8.9f}};
  for (const auto& [x, y] : training) {
    detector->step(std::vector<float>{x, y}, scores);
    CHECK(scores == std::vector<float>{0, 0});
  }
  detector->step(std::vector<float>{5, 11.9f}, scores);
  const double sd = std::sqrt(0.032 / 2);
  CHECK(scores[0] == Approx(1.0 / sd).epsilon(1e-4));
  CHECK(scores[1] == scores[0]);
  detector->step(std::vector<float>{6, 12.86f}, scores);  // on the line: 1.1 + 1.96 x 6
  CHECK(scores[0] == Approx(0.0).margin(1e-3));
  CHECK(detector->limit() == 3.0);
  // A training longer than a count of ticks holds is refused (1e30 s was cast to one).
  regression.params = {{"training", 1e30}};
  CHECK_THROWS_WITH(make_detector(regression, 2, "t.yaml", kSecond),
                    Catch::Contains("'training' must span at most 1e12 ticks"));
}

TEST_CASE("an alert fires after `for`, once per episode, for the series' service", "[detectors]") {
  const Scenario scenario = scenario_from(kTwo);
  DetectorSpec threshold = spec("threshold", {{"above", 0.1}});
  threshold.for_duration = 2 * kSecond;
  threshold.severity = "critical";
  DetectorRunner runner(scenario, {threshold});
  // b is above 0.1 at ticks 1-4 and 7-7; a never.
  const std::vector<float> b = {0.0f, 0.5f, 0.5f, 0.5f, 0.5f, 0.0f, 0.0f, 0.5f, 0.0f};
  for (std::size_t t = 0; t < b.size(); ++t)
    runner.on_frame(frame_with(static_cast<std::int64_t>(t), 0.0f, b[t]));
  REQUIRE(runner.alerts().size() == 1);           // the second episode lasts 1 tick only
  CHECK(runner.alerts()[0].time == 4 * kSecond);  // anomalous at ticks 1, 2, then fires at 3
  CHECK(runner.alerts()[0].service == 1);
  CHECK(runner.alerts()[0].metric == "error_ratio");
  CHECK(runner.alerts()[0].severity == "critical");
}

TEST_CASE("an alert escalates to critical when its escalation metric is high", "[detectors]") {
  const Scenario scenario = scenario_from(kTwo);
  DetectorSpec threshold = spec("threshold", {{"above", 0.1}});
  threshold.metrics = {"error_ratio"};
  threshold.critical_metric = "error_ratio";
  threshold.critical_above = 0.3;
  DetectorRunner runner(scenario, {threshold});
  runner.on_frame(frame_with(0, 0.2f, 0.5f));  // a: warning (0.2 <= 0.3), b: critical
  REQUIRE(runner.alerts().size() == 2);
  CHECK(runner.alerts()[0].severity == "warning");
  CHECK(runner.alerts()[1].severity == "critical");
}

namespace {

// A threshold on error_ratio (above 0.01) that escalates to critical at `limit` (or above
// it only, unless `inclusive`).
DetectorSpec critical_at(double limit, bool inclusive) {
  DetectorSpec threshold = spec("threshold", {{"above", 0.01}});
  threshold.metrics = {"error_ratio"};
  threshold.critical_metric = "error_ratio";
  threshold.critical_above = limit;
  threshold.critical_inclusive = inclusive;
  return threshold;
}

}  // namespace

TEST_CASE("a value exactly at critical_when's limit is not above it, whatever its rounding",
          "[detectors]") {
  // 0.1 and 0.7 round up and down to 32 bits: both exactly at the limit, neither critical.
  for (const double limit : {0.1, 0.7, 0.05}) {
    const Scenario scenario = scenario_from(kTwo);
    DetectorRunner runner(scenario, {critical_at(limit, false)});
    runner.on_frame(frame_with(0, static_cast<float>(limit), static_cast<float>(limit)));
    REQUIRE(runner.alerts().size() == 2);
    CHECK(runner.alerts()[0].severity == "warning");
  }
}

TEST_CASE("critical_when at_least counts a value exactly at it", "[detectors]") {
  // The MAD demo's "Critical when the error ratio is >= 5 %": an error ratio of exactly 5 %
  // (a 5 % error fault without noise) escalates with at_least, not with above.
  for (const double limit : {0.1, 0.7, 0.05}) {
    const Scenario scenario = scenario_from(kTwo);
    DetectorRunner runner(scenario, {critical_at(limit, true)});
    const float below = std::nextafter(static_cast<float>(limit), 0.0f);
    runner.on_frame(frame_with(0, static_cast<float>(limit), below));
    REQUIRE(runner.alerts().size() == 2);
    CHECK(runner.alerts()[0].severity == "critical");
    CHECK(runner.alerts()[1].severity == "warning");
  }
}

TEST_CASE("the default detectors run without a detectors section", "[detectors]") {
  const auto defaults = DetectorRunner::default_specs();
  REQUIRE(defaults.size() == 3);
  CHECK(defaults[0].kind == "mad");
  const Scenario scenario = scenario_from(kTwo);
  CHECK_FALSE(scenario.detectors_given);
  DetectorRunner runner(scenario, defaults);
  for (int t = 0; t < 100; ++t) runner.on_frame(frame_with(t, 0.0f, 0.0f));
  CHECK(runner.alerts().empty());
}

TEST_CASE("unknown detector kinds and parameters are reported at the detector", "[detectors]") {
  const Scenario scenario = scenario_from(std::string(kTwo) + R"(
detectors:
  - {name: m, kind: madd, metrics: [error_ratio]}
)");
  REQUIRE(scenario.detectors.size() == 1);
  try {
    DetectorRunner runner(scenario, scenario.detectors);
    FAIL("no error");
  } catch (const InputError& error) {
    CHECK(error.diagnostics()[0].format() ==
          "test.yaml:11:21: unknown detector kind 'madd'; did you mean 'mad'?");
  }
  const Scenario bad_param = scenario_from(std::string(kTwo) + R"(
detectors:
  - {name: m, kind: mad, metrics: [error_ratio], params: {windw: 32}}
)");
  try {
    DetectorRunner runner(bad_param, bad_param.detectors);
    FAIL("no error");
  } catch (const InputError& error) {
    CHECK(error.diagnostics()[0].message ==
          "detector 'm': unknown parameter 'windw' for kind mad; did you mean 'window'?");
    // At the parameter's name, not at the detector.
    CHECK(error.diagnostics()[0].line == 11);
    CHECK(error.diagnostics()[0].column == 59);
  }
}

TEST_CASE("direction up scores only rises, down only falls, both their size", "[detectors]") {
  // mad over a window of 7 holding {10, 12, 10, 12, 10, 12, 10}: median 10, deviations
  // {0, 2, 0, 2, 0, 2, 0}, so MAD = 0 and any other value scores 1e9 (signed by the kernel).
  const std::vector<float> history = {10, 12, 10, 12, 10, 12, 10};
  for (const int direction : {1, -1, 0}) {
    DetectorSpec s = spec("mad", {{"window", 7}});
    s.direction = direction;
    auto detector = make_detector(s, 2, "t.yaml");
    std::vector<float> scores(2);
    for (float x : history) detector->step(std::vector<float>{x, x}, scores);
    // Series 0 rises to 30, series 1 falls to -10.
    detector->step(std::vector<float>{30, -10}, scores);
    CHECK(scores[0] == (direction >= 0 ? 1e9f : 0.0f));
    CHECK(scores[1] == (direction <= 0 ? 1e9f : 0.0f));
  }
  // ewma with alpha 0.5 and no warm-up, as above: after 10, 12 the mean is 11, sd 1.
  for (const int direction : {1, -1, 0}) {
    DetectorSpec s = spec("ewma", {{"alpha", 0.5}, {"warmup", 0}});
    s.direction = direction;
    auto detector = make_detector(s, 2, "t.yaml");
    std::vector<float> scores(2);
    detector->step(std::vector<float>{10, 10}, scores);
    detector->step(std::vector<float>{12, 12}, scores);
    detector->step(std::vector<float>{14, 8}, scores);  // +3 sd and -3 sd
    CHECK(scores[0] == Approx(direction >= 0 ? 3.0 : 0.0));
    CHECK(scores[1] == Approx(direction <= 0 ? 3.0 : 0.0));
  }
}

TEST_CASE("a direction is reported for kinds without one, and must be up, down or both",
          "[detectors]") {
  const Scenario scenario = scenario_from(std::string(kTwo) + R"(
detectors:
  - {name: t, kind: threshold, metrics: [error_ratio], params: {above: 1}, direction: up}
)");
  try {
    DetectorRunner runner(scenario, scenario.detectors);
    FAIL("no error");
  } catch (const InputError& error) {
    CHECK(error.diagnostics()[0].message ==
          "detector 't': 'direction' applies to kinds mad, ewma and surprise, not threshold");
  }
  try {
    scenario_from(std::string(kTwo) + R"(
detectors:
  - {name: m, kind: mad, metrics: [error_ratio], direction: upward}
)");
    FAIL("no error");
  } catch (const InputError& error) {
    CHECK(error.diagnostics()[0].format() ==
          "test.yaml:11:61: 'direction' must be up, down or both, got 'upward'");
  }
}

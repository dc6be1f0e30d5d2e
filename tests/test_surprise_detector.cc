// Kind surprise (detectors/surprise_detector.h) and `rest` (detectors/resting_detector.h) on
// hand-made series: a new extreme is novel, a missing daily peak is found by the phase view
// though every value stays in the usual range, rest keeps a series quiet after an alert, series are
// independent of their neighbours in a batch, and bad parameters are refused.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "dosim/detectors/detector.h"
#include "dosim/error.h"

using namespace dosim;

namespace {

DetectorSpec spec(const std::string& kind, std::vector<std::pair<std::string, double>> params) {
  DetectorSpec s;
  s.name = kind;
  s.kind = kind;
  s.metrics = {"value"};
  s.params = std::move(params);
  return s;
}

// A noisy daily cycle sampled hourly (24 ticks a day): 10 + 5 sin, with a small deterministic
// wobble so that the errors have a spread.
float daily(int t) {
  const double phase = 2.0 * M_PI * (t % 24) / 24.0;
  return static_cast<float>(10.0 + 5.0 * std::sin(phase) + 0.3 * std::sin(1.7 * t));
}

std::vector<float> run(Detector& detector, const std::vector<float>& values) {
  std::vector<float> out;
  std::vector<float> score(1);
  for (float x : values) {
    detector.step(std::vector<float>{x}, score);
    out.push_back(score[0]);
  }
  return out;
}

float max_of(const std::vector<float>& v, std::size_t begin, std::size_t end) {
  float m = 0.0f;
  for (std::size_t i = begin; i < end; ++i) m = std::max(m, v[i]);
  return m;
}

}  // namespace

TEST_CASE("surprise: a value beyond the range seen scores 1, an ordinary one little",
          "[detectors][surprise]") {
  auto detector =
      make_detector(spec("surprise", {{"rest", 0}, {"warmup", 20}}), 1, "t.yaml", kHour);
  std::vector<float> values;
  for (int t = 0; t < 24 * 10; ++t) values.push_back(daily(t));
  values.push_back(30.0f);  // far above the 4.7 .. 15.3 seen
  const std::vector<float> scores = run(*detector, values);
  CHECK(max_of(scores, 0, 20) == 0.0f);  // warm-up
  CHECK(max_of(scores, 24 * 5, 24 * 10) < 0.4f);
  CHECK(scores.back() == 1.0f);
  CHECK(detector->limit() == Approx(0.4));
}

TEST_CASE("surprise: a missing daily peak inside the usual range is found by the phase view",
          "[detectors][surprise]") {
  std::vector<float> values;
  for (int t = 0; t < 24 * 12; ++t) values.push_back(daily(t));
  // Day 12: the peak (hours 3 to 9) stays at the daily mean.
  for (int h = 3; h <= 9; ++h) values.push_back(10.0f);
  const std::size_t peak_start = 24 * 12;
  for (int h = 10; h < 24; ++h) values.push_back(daily(24 * 12 + h));
  auto detector = make_detector(spec("surprise", {{"rest", 0}}), 1, "t.yaml", kHour);
  const std::vector<float> scores = run(*detector, values);
  CHECK(max_of(scores, 24 * 6, peak_start) < 0.4f);
  CHECK(max_of(scores, peak_start, peak_start + 7) > 0.4f);
  // Without the phase (one bin: the "phase" is the overall smoothed level), it is missed.
  auto flat = make_detector(spec("surprise", {{"rest", 0}, {"bins", 1}}), 1, "t.yaml", kHour);
  const std::vector<float> flat_scores = run(*flat, values);
  CHECK(max_of(flat_scores, peak_start, peak_start + 7) < 0.4f);
}

TEST_CASE("surprise: each series in a batch scores as it would alone", "[detectors][surprise]") {
  auto batch = make_detector(spec("surprise", {}), 3, "t.yaml", kHour);
  std::vector<std::vector<float>> alone_scores;
  std::vector<std::vector<float>> series(3);
  for (int t = 0; t < 24 * 8; ++t) {
    series[0].push_back(daily(t));
    series[1].push_back(t == 150 ? NAN : 100.0f + static_cast<float>(t % 7));
    series[2].push_back(t > 170 ? 50.0f : daily(t + 5));
  }
  for (const auto& s : series) {
    auto alone = make_detector(spec("surprise", {}), 1, "t.yaml", kHour);
    alone_scores.push_back(run(*alone, s));
  }
  std::vector<float> scores(3);
  for (std::size_t t = 0; t < series[0].size(); ++t) {
    batch->step(std::vector<float>{series[0][t], series[1][t], series[2][t]}, scores);
    for (std::size_t i = 0; i < 3; ++i) CHECK(scores[i] == alone_scores[i][t]);
  }
  CHECK(max_of(alone_scores[2], 171, 24 * 8) == 1.0f);  // 50 is a new extreme
}

TEST_CASE("surprise: direction keeps one side", "[detectors][surprise]") {
  for (const int direction : {1, -1}) {
    DetectorSpec s = spec("surprise", {{"rest", 0}});
    s.direction = direction;
    auto detector = make_detector(s, 2, "t.yaml", kHour);
    std::vector<float> scores(2);
    for (int t = 0; t < 24 * 6; ++t) detector->step(std::vector<float>{daily(t), daily(t)}, scores);
    detector->step(std::vector<float>{40.0f, -20.0f}, scores);  // series 0 up, series 1 down
    // The novel side scores 1; the other side's error counts as 0, so it stays ordinary.
    CHECK((direction > 0 ? scores[0] == 1.0f : scores[0] < 0.1f));
    CHECK((direction < 0 ? scores[1] == 1.0f : scores[1] < 0.1f));
  }
}

TEST_CASE("rest: an alert, then quiet for `rest` ticks", "[detectors]") {
  // threshold's score is the value; limit 1; rest 3.
  auto detector = make_detector(spec("threshold", {{"above", 1}, {"rest", 3}}), 1, "t.yaml");
  const std::vector<float> values = {0, 2, 2, 2, 2, 0, 0, 0, 2, 0, 0, 2, 1, 1.5f};
  // Ticks 2-4 and 9-11 rest after the alerts at 1 and 8 (tick 11's 2 included); tick 12 is
  // scored as usual (1 is not above the limit) and tick 13 alerts again.
  const std::vector<float> expected = {0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 1.5f};
  CHECK(run(*detector, values) == expected);
  // A long excursion is reported every rest + 1 ticks.
  auto again = make_detector(spec("threshold", {{"above", 1}, {"rest", 3}}), 1, "t.yaml");
  CHECK(run(*again, std::vector<float>(9, 2.0f)) == std::vector<float>{2, 0, 0, 0, 2, 0, 0, 0, 2});
  // rest 0 (every kind but surprise by default) changes nothing.
  auto plain = make_detector(spec("threshold", {{"above", 1}}), 1, "t.yaml");
  CHECK(run(*plain, values) == values);
}

TEST_CASE("surprise: with clip, a sustained step stays surprising for longer",
          "[detectors][surprise]") {
  // 3,000 quiet ticks around 10 (a spike to 20 early, so that the step below is no new
  // extreme), then 900 ticks at 13: the level view's error stays, and without clip the
  // likelihood's history soon takes the step in as ordinary.
  std::vector<float> values;
  for (int t = 0; t < 3000; ++t)
    values.push_back(static_cast<float>(10.0 + 0.3 * std::sin(1.7 * t)));
  values[100] = 20.0f;
  for (int t = 0; t < 900; ++t)
    values.push_back(static_cast<float>(13.0 + 0.3 * std::sin(1.7 * t)));
  auto ticks_above = [&](double clip) {
    auto detector = make_detector(
        spec("surprise", {{"rest", 0}, {"window", 86400}, {"clip", clip}}), 1, "t.yaml", kSecond);
    const std::vector<float> scores = run(*detector, values);
    CHECK(max_of(scores, 500, 3000) < 0.5f);  // quiet before the step either way
    int above = 0;
    for (std::size_t i = 3000; i < scores.size(); ++i) above += scores[i] >= 0.5f;
    return above;
  };
  const int plain = ticks_above(0), clipped = ticks_above(3);
  CHECK(plain > 0);
  CHECK(clipped > 2 * plain);
}

TEST_CASE("surprise and rest: bad parameters are refused", "[detectors][surprise]") {
  auto refused = [](const std::string& kind, std::vector<std::pair<std::string, double>> params,
                    const std::string& text) {
    try {
      make_detector(spec(kind, std::move(params)), 1, "t.yaml", kHour);
      FAIL("accepted");
    } catch (const InputError& error) {
      CHECK(error.diagnostics()[0].message.find(text) != std::string::npos);
    }
  };
  refused("surprise", {{"threshold", 1.5}}, "'threshold' must be in (0, 1]");
  refused("surprise", {{"bins", 2.5}}, "'bins' must be a whole number");
  refused("surprise", {{"period", 60}}, "'period' must be at least one tick");
  refused("surprise", {{"history", 1}}, "'history' must be >= 2");
  refused("mad", {{"rest", -1}}, "'rest' must be a whole number of ticks");
  refused("ewma", {{"rest", 2.5}}, "'rest' must be a whole number of ticks");
  refused("surprise", {{"clip", -1}}, "'clip' must be >= 0");
  refused("surprise", {{"warmup", 1e30}}, "'warmup' must be a whole number of ticks in [0, 1e9]");
  refused("surprise", {{"floor", -1}}, "'floor' must be >= 0");
  refused("surprise", {{"tolerence", 0.1}}, "unknown parameter 'tolerence'");
}

#include "detectors/surprise_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "detectors/anomaly_likelihood.h"

namespace dosim {
namespace {

struct Settings {
  double level_alpha, short_alpha, smooth_alpha, period_alpha, average_alpha, history_alpha;
  double spread, floor, tolerance, threshold, clip;
  std::int64_t warmup;
  std::int64_t period_ticks, bins;
  int direction;
};

// One view's error relative to its typical size so far.
struct TypicalError {
  std::vector<double> typical;
  explicit TypicalError(std::size_t series) : typical(series) {}

  // |e| against the view's typical |e| so far, e / (e + spread x max(typical, floor x range))
  // in [0, 1); learns |e|. 0 on the side `direction` ignores.
  double relative(std::size_t i, double e, double range, double start, const Settings& s) {
    const double size = std::fabs(e);
    const double scale = size + s.spread * std::max(typical[i], s.floor * range);
    const double r = scale > 0 ? size / scale : 0.0;
    typical[i] += std::max(s.history_alpha, start) * (size - typical[i]);
    return s.direction == 0 || s.direction * e > 0 ? r : 0.0;
  }
};

class SurpriseDetector : public Detector {
 public:
  SurpriseDetector(std::size_t series, const Settings& settings)
      : s_(settings),
        level_(series),
        short_(series),
        smooth_(series),
        phase_(series * static_cast<std::size_t>(settings.bins),
               std::numeric_limits<double>::quiet_NaN()),
        low_(series, std::numeric_limits<double>::quiet_NaN()),
        high_(series, std::numeric_limits<double>::quiet_NaN()),
        level_typical_(series),
        phase_typical_(series),
        level_view_(series, settings.average_alpha, settings.history_alpha, settings.clip),
        short_view_(series, settings.average_alpha, settings.history_alpha, settings.clip),
        phase_view_(series, settings.average_alpha, settings.history_alpha, settings.clip),
        seen_(series, 0) {}

  void step(std::span<const float> values, std::span<float> scores) override {
    const std::size_t series = values.size();
    const std::int64_t tick_in_period = ticks_ % s_.period_ticks;
    const auto bin = static_cast<std::size_t>(tick_in_period * s_.bins / s_.period_ticks);
    double* phase = phase_.data() + bin * series;
    const double dir = s_.direction;
    for (std::size_t i = 0; i < series; ++i) {
      const double x = values[i];
      if (!std::isfinite(x)) {
        scores[i] = 0.0f;
        continue;
      }
      if (!(low_[i] == low_[i])) {  // the series' first value
        low_[i] = high_[i] = x;
        level_[i] = short_[i] = smooth_[i] = x;
      }
      // Novelty against the range before this value.
      const double old_range = high_[i] - low_[i];
      const double margin = s_.tolerance * old_range;
      const bool above = x > high_[i] + margin, below = x < low_[i] - margin;
      const bool novel = old_range > 0 && (dir > 0 ? above : dir < 0 ? below : above || below);
      low_[i] = std::min(low_[i], x);
      high_[i] = std::max(high_[i], x);
      const double range = high_[i] - low_[i] > 0 ? high_[i] - low_[i] : 1.0;

      const double start = 1.0 / (static_cast<double>(seen_[i]++) + 1.0);
      const double level_error = x - level_[i];
      level_[i] += std::max(s_.level_alpha, start) * level_error;
      const double short_error = x - short_[i];
      short_[i] += std::max(s_.short_alpha, start) * short_error;
      smooth_[i] += std::max(s_.smooth_alpha, start) * (x - smooth_[i]);
      double phase_error = 0.0;
      if (phase[i] == phase[i]) {
        phase_error = smooth_[i] - phase[i];
        phase[i] += s_.period_alpha * phase_error;
      } else {
        phase[i] = smooth_[i];
      }
      const double short_side =
          dir == 0 ? std::fabs(short_error) : std::max(0.0, dir * short_error);
      const double level_z = level_view_.z_and_learn(
          i, level_typical_.relative(i, level_error, range, start, s_), start);
      const double phase_z = phase_view_.z_and_learn(
          i, phase_typical_.relative(i, phase_error, range, start, s_), start);
      const double short_z = short_view_.z_and_learn(i, short_side / range, start);
      // The score is monotonic in z: one tail for the largest.
      const double score = novel ? 1.0 : likelihood_score(std::max({level_z, phase_z, short_z}));
      scores[i] = ticks_ < s_.warmup ? 0.0f : static_cast<float>(score);
    }
    ++ticks_;
  }
  double limit() const override { return s_.threshold; }

 private:
  Settings s_;
  std::int64_t ticks_ = 0;
  std::vector<double> level_, short_, smooth_;
  std::vector<double> phase_;  // [bin][series]; NaN until the bin has been visited
  std::vector<double> low_, high_;
  TypicalError level_typical_, phase_typical_;
  AnomalyLikelihood level_view_, short_view_, phase_view_;
  std::vector<std::int64_t> seen_;  // finite values learnt, per series
};

}  // namespace

std::unique_ptr<Detector> make_surprise_detector(DetectorParams& params, std::size_t series) {
  const double window = params.get("window", 288);
  const double short_window = params.get("short", 10);
  const double smooth = params.get("smooth", 3);
  const double period = params.get("period", 86400);
  const double bins = params.get("bins", 288);
  const double periods = params.get("periods", 3);
  const double average = params.get("average", 15);
  const double history = params.get("history", 8640);
  const double spread = params.get("spread", 7);
  const double tolerance = params.get("tolerance", 0.02);
  const double threshold = params.get("threshold", 0.4);
  const double warmup = params.get("warmup", 50);
  auto whole = [](double v) { return v == std::floor(v); };
  params.require(window >= 1, "'window' must be >= 1 tick");
  params.require(short_window >= 1, "'short' must be >= 1 tick");
  params.require(smooth >= 1, "'smooth' must be >= 1 tick");
  params.require(average >= 1, "'average' must be >= 1 tick");
  params.require(history >= 2, "'history' must be >= 2 ticks");
  params.require(periods >= 1, "'periods' must be >= 1");
  params.require(spread > 0, "'spread' must be > 0");
  params.require(bins >= 1 && bins <= 100000 && whole(bins),
                 "'bins' must be a whole number in [1, 100000]");
  params.require(tolerance >= 0, "'tolerance' must be >= 0");
  const double clip = params.get("clip", 0);
  params.require(clip >= 0, "'clip' must be >= 0 (0: off)");
  params.require(threshold > 0 && threshold <= 1, "'threshold' must be in (0, 1]");
  // As ewma's and lstm's (1e30 ticks was taken, and cast to a count it cannot be).
  params.require(warmup >= 0 && warmup <= 1e9 && whole(warmup),
                 "'warmup' must be a whole number of ticks in [0, 1e9]");
  const double tick_seconds = static_cast<double>(params.tick()) / static_cast<double>(kSecond);
  const double period_ticks = std::round(period / tick_seconds);
  char tick_text[32];
  std::snprintf(tick_text, sizeof tick_text, "%g", tick_seconds);
  params.require(period >= tick_seconds && period_ticks <= 1e12,
                 std::string("'period' must be at least one tick (") + tick_text +
                     " s) and at most 1e12 ticks, in seconds");
  Settings s{};
  s.level_alpha = ewma_alpha(window);
  s.short_alpha = ewma_alpha(short_window);
  s.smooth_alpha = ewma_alpha(smooth);
  s.period_alpha = 1.0 / periods;
  s.average_alpha = ewma_alpha(average);
  s.history_alpha = ewma_alpha(history);
  s.spread = spread;
  s.floor = params.get("floor", 0.001);
  params.require(s.floor >= 0, "'floor' must be >= 0");
  s.tolerance = tolerance;
  s.clip = clip;
  s.threshold = threshold;
  s.warmup = static_cast<std::int64_t>(warmup);
  s.period_ticks = static_cast<std::int64_t>(period_ticks);
  s.bins = std::min<std::int64_t>(static_cast<std::int64_t>(bins), s.period_ticks);
  s.direction = params.direction();
  params.require_state(static_cast<double>(series) * (static_cast<double>(s.bins) + 20) * 8,
                       "'bins'");
  return std::make_unique<SurpriseDetector>(series, s);
}

}  // namespace dosim

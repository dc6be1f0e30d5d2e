#include "detectors/surprise_detector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace dosim {
namespace {

// HTM's lower bound on the variance of the averaged error (NAB's anomaly_likelihood.py does
// the same): a series that was perfectly predictable is not infinitely surprising.
constexpr double kMinVariance = 3e-4;
constexpr double kLogEpsilon = -23.025850929940457;  // log(1e-10)

// log(1 - L + 1e-10) / log(1e-10), L the normal CDF of z: 0 for ordinary, 1 for z >~ 6.4.
inline double log_likelihood_score(double z) {
  const double tail = 0.5 * std::erfc(z * 0.70710678118654752);
  return std::log(tail + 1e-10) / kLogEpsilon;
}

struct Settings {
  double level_alpha, smooth_alpha, period_alpha, average_alpha, history_alpha;
  double tolerance, threshold;
  std::int64_t warmup;
  std::int64_t period_ticks, bins;
  int direction;
};

// The likelihood of one error view: its EWMA-averaged value and that average's long mean and
// variance, per series.
struct ErrorView {
  std::vector<double> average, mean, variance;
  explicit ErrorView(std::size_t series) : average(series), mean(series), variance(series) {}

  // The z of error e (already divided by the range) against the history, then learns it.
  // `seen`: the values learnt before this one; each EWMA is the plain mean until it has
  // seen about as many values as its span, so that it starts unbiased.
  double z_and_learn(std::size_t i, double e, double seen, const Settings& s) {
    const double start = 1.0 / (seen + 1.0);
    average[i] += std::max(s.average_alpha, start) * (std::min(e, 1.0) - average[i]);
    const double m = std::max(mean[i], 0.0);
    const double sd = std::sqrt(std::max(variance[i], kMinVariance));
    const double z = (average[i] - m) / sd;
    const double deviation = average[i] - mean[i];
    const double alpha = std::max(s.history_alpha, start);
    mean[i] += alpha * deviation;
    variance[i] = (1.0 - alpha) * (variance[i] + alpha * deviation * deviation);
    return z;
  }
};

class SurpriseDetector : public Detector {
 public:
  SurpriseDetector(std::size_t series, const Settings& settings)
      : s_(settings),
        level_(series),
        smooth_(series),
        phase_(series * static_cast<std::size_t>(settings.bins),
               std::numeric_limits<double>::quiet_NaN()),
        low_(series, std::numeric_limits<double>::quiet_NaN()),
        high_(series, std::numeric_limits<double>::quiet_NaN()),
        level_view_(series),
        phase_view_(series),
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
      const bool first = !(low_[i] == low_[i]);
      if (first) {
        low_[i] = high_[i] = x;
        level_[i] = smooth_[i] = x;
      }
      // Novelty against the range before this value.
      const double old_range = high_[i] - low_[i];
      const double margin = s_.tolerance * old_range;
      const bool above = x > high_[i] + margin, below = x < low_[i] - margin;
      const bool novel = old_range > 0 && (dir > 0 ? above : dir < 0 ? below : above || below);
      low_[i] = std::min(low_[i], x);
      high_[i] = std::max(high_[i], x);
      const double range = high_[i] - low_[i] > 0 ? high_[i] - low_[i] : 1.0;

      const double seen = static_cast<double>(seen_[i]++);
      const double start = 1.0 / (seen + 1.0);
      const double level_error = x - level_[i];
      level_[i] += std::max(s_.level_alpha, start) * level_error;
      smooth_[i] += std::max(s_.smooth_alpha, start) * (x - smooth_[i]);
      double phase_error = 0.0;
      if (phase[i] == phase[i]) {
        phase_error = smooth_[i] - phase[i];
        phase[i] += s_.period_alpha * phase_error;
      } else {
        phase[i] = smooth_[i];
      }
      const auto side = [dir](double e) {
        return dir == 0 ? std::fabs(e) : std::max(0.0, dir * e);
      };
      const double level_z = level_view_.z_and_learn(i, side(level_error) / range, seen, s_);
      const double phase_z = phase_view_.z_and_learn(i, side(phase_error) / range, seen, s_);
      // The score is monotonic in z: one tail for the larger of the two.
      const double score = novel ? 1.0 : log_likelihood_score(std::max(level_z, phase_z));
      scores[i] = ticks_ < s_.warmup ? 0.0f : static_cast<float>(score);
    }
    ++ticks_;
  }
  double limit() const override { return s_.threshold; }

 private:
  Settings s_;
  std::int64_t ticks_ = 0;
  std::vector<double> level_, smooth_;
  std::vector<double> phase_;  // [bin][series]; NaN until the bin has been visited
  std::vector<double> low_, high_;
  ErrorView level_view_, phase_view_;
  std::vector<std::int64_t> seen_;  // finite values learnt, per series
};

// An EWMA over about n samples: alpha = 2 / (n + 1).
double alpha_over(double n) { return 2.0 / (n + 1.0); }

}  // namespace

std::unique_ptr<Detector> make_surprise_detector(DetectorParams& params, std::size_t series) {
  const double window = params.get("window", 288);
  const double smooth = params.get("smooth", 3);
  const double period = params.get("period", 86400);
  const double bins = params.get("bins", 288);
  const double periods = params.get("periods", 3);
  const double average = params.get("average", 10);
  const double history = params.get("history", 8640);
  const double tolerance = params.get("tolerance", 0.02);
  const double threshold = params.get("threshold", 0.4);
  const double warmup = params.get("warmup", 50);
  auto whole = [](double v) { return v == std::floor(v); };
  params.require(window >= 1, "'window' must be >= 1 tick");
  params.require(smooth >= 1, "'smooth' must be >= 1 tick");
  params.require(average >= 1, "'average' must be >= 1 tick");
  params.require(history >= 2, "'history' must be >= 2 ticks");
  params.require(periods >= 1, "'periods' must be >= 1");
  params.require(bins >= 1 && bins <= 100000 && whole(bins),
                 "'bins' must be a whole number in [1, 100000]");
  params.require(tolerance >= 0, "'tolerance' must be >= 0");
  params.require(threshold > 0 && threshold <= 1, "'threshold' must be in (0, 1]");
  params.require(warmup >= 0 && whole(warmup), "'warmup' must be a whole number of ticks >= 0");
  const double tick_seconds = static_cast<double>(params.tick()) / static_cast<double>(kSecond);
  const double period_ticks = std::round(period / tick_seconds);
  params.require(period > 0 && period_ticks >= 1 && period_ticks <= 1e12,
                 "'period' must be at least one tick (seconds)");
  Settings s{};
  s.level_alpha = alpha_over(window);
  s.smooth_alpha = alpha_over(smooth);
  s.period_alpha = 1.0 / periods;
  s.average_alpha = alpha_over(average);
  s.history_alpha = alpha_over(history);
  s.tolerance = tolerance;
  s.threshold = threshold;
  s.warmup = static_cast<std::int64_t>(warmup);
  s.period_ticks = static_cast<std::int64_t>(period_ticks);
  s.bins = std::min<std::int64_t>(static_cast<std::int64_t>(bins), s.period_ticks);
  s.direction = params.direction();
  params.require_state(static_cast<double>(series) * (static_cast<double>(s.bins) + 12) * 8,
                       "'bins'");
  return std::make_unique<SurpriseDetector>(series, s);
}

}  // namespace dosim

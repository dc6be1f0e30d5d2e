#include "detectors/regression_detector.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "util/zeroed_array.h"

namespace dosim {
namespace {

class RegressionDetector : public Detector {
 public:
  RegressionDetector(std::size_t series, std::int64_t training_ticks, double threshold,
                     double min_sd, std::size_t window_ticks)
      : pairs_(series / 2),
        training_ticks_(training_ticks),
        threshold_(threshold),
        min_sd_(min_sd),
        window_(window_ticks),
        sums_(pairs_),
        fit_(pairs_),
        recent_(pairs_ * window_),
        gauges_(kGaugeKinds.size() * pairs_, 0.0f) {}

  void step(std::span<const float> values, std::span<float> scores) override {
    for (std::size_t p = 0; p < pairs_; ++p) {
      const double x = values[p];
      const double y = values[pairs_ + p];
      float score = 0.0f;
      if (seen_ < training_ticks_) {
        Sums& s = sums_[p];
        s.n += 1;
        s.x += x;
        s.y += y;
        s.xx += x * x;
        s.xy += x * y;
        s.yy += y * y;
      } else {
        if (seen_ == training_ticks_) fit(p);
        const Fit& f = fit_[p];
        const double predicted = f.a + f.b * x;
        score = static_cast<float>(std::fabs(y - predicted) / f.sd);
        observe_after_training(p, x, y, predicted, score > threshold_);
      }
      gauge(kY, p) = static_cast<float>(y);
      scores[p] = score;
      scores[pairs_ + p] = score;
    }
    ++seen_;
  }
  double limit() const override { return threshold_; }

  std::vector<std::string> gauge_kinds() const override {
    return {kGaugeKinds.begin(), kGaugeKinds.end()};
  }
  std::size_t gauge_groups() const override { return pairs_; }
  void read_gauges(std::span<float> out) const override {
    std::copy(gauges_.begin(), gauges_.end(), out.begin());
  }

 private:
  struct Sums {
    double n = 0, x = 0, y = 0, xx = 0, xy = 0, yy = 0;
  };
  struct Fit {
    double a = 0, b = 0, sd = 1;
  };
  // One post-training tick of a pair, kept for the window gauges.
  struct Recent {
    double absolute_error = 0;
    double percentage_error = 0;  // 0 where y = 0
    bool anomalous = false;
  };
  // The Lab 7 gauge names, in the order read_gauges() writes them.
  enum Gauge { kAnomalyCount, kMae, kMape, kY, kYMin, kYMax };
  static constexpr std::array<const char*, 6> kGaugeKinds = {"anomaly_count", "mae",  "mape", "y",
                                                             "y_min",         "y_max"};

  float& gauge(Gauge kind, std::size_t p) { return gauges_[kind * pairs_ + p]; }

  // Updates the band and the window gauges (over the last window_ post-training ticks) of
  // pair p. Recomputed over the window each tick: exact, and the windows are short.
  void observe_after_training(std::size_t p, double /*x*/, double y, double predicted,
                              bool anomalous) {
    const double error = std::fabs(y - predicted);
    const std::int64_t after = seen_ - training_ticks_;  // 0 on the first scored tick
    recent_[p * window_ + static_cast<std::size_t>(after) % window_] = {
        error, y != 0 ? 100.0 * error / std::fabs(y) : 0.0, anomalous};
    const std::size_t filled = std::min<std::size_t>(window_, static_cast<std::size_t>(after) + 1);
    double mae = 0, mape = 0;
    int count = 0;
    for (std::size_t k = 0; k < filled; ++k) {
      const Recent& r = recent_[p * window_ + k];
      mae += r.absolute_error;
      mape += r.percentage_error;
      count += r.anomalous ? 1 : 0;
    }
    const double band = threshold_ * fit_[p].sd;
    gauge(kAnomalyCount, p) = static_cast<float>(count);
    gauge(kMae, p) = static_cast<float>(mae / double(filled));
    gauge(kMape, p) = static_cast<float>(mape / double(filled));
    gauge(kYMin, p) = static_cast<float>(predicted - band);
    gauge(kYMax, p) = static_cast<float>(predicted + band);
  }

  // Least squares y = a + b x; residual sd from the sums (at least min_sd).
  void fit(std::size_t p) {
    const Sums& s = sums_[p];
    Fit& f = fit_[p];
    const double var_x = s.xx - s.x * s.x / s.n;
    f.b = var_x > 1e-12 ? (s.xy - s.x * s.y / s.n) / var_x : 0.0;
    f.a = (s.y - f.b * s.x) / s.n;
    // Sum of squared residuals: Syy - 2a Sy - 2b Sxy + n a^2 + 2ab Sx + b^2 Sxx.
    const double ss = s.yy - 2 * f.a * s.y - 2 * f.b * s.xy + s.n * f.a * f.a +
                      2 * f.a * f.b * s.x + f.b * f.b * s.xx;
    f.sd = std::max(min_sd_, std::sqrt(std::max(0.0, ss / std::max(1.0, s.n - 2))));
  }

  std::size_t pairs_;
  std::int64_t training_ticks_;
  double threshold_, min_sd_;
  std::size_t window_;
  std::int64_t seen_ = 0;
  std::vector<Sums> sums_;
  std::vector<Fit> fit_;
  ZeroedArray<Recent> recent_;  // [pair][window slot], touched as it fills (zeros: Recent{})
  std::vector<float> gauges_;   // [gauge kind][pair]
};

}  // namespace

std::unique_ptr<Detector> make_regression_detector(DetectorParams& params, std::size_t series) {
  const double training = params.get("training", 300);
  const double threshold = params.get("threshold", 3);
  const double min_sd = params.get("min_sd", 0.001);
  const double window = params.get("window", 10);
  const std::vector<std::string>& metrics = params.spec().metrics;
  params.require(params.spec().family == "edge" && metrics.size() == 2 && metrics[0] == "rps" &&
                     metrics[1].rfind("latency_", 0) == 0,
                 "kind regression watches edges' [rps, a latency] (family: edge, metrics: "
                 "[rps, latency_p95_s]): the latency regressed on the rate");
  params.require(series % 2 == 0,
                 "kind regression watches two metrics of the same edges: [rps, a latency]");
  const double ticks = training / to_seconds(params.tick());
  params.require(ticks >= 3, "'training' must span at least 3 ticks");
  params.require(ticks <= 1e12, "'training' must span at most 1e12 ticks");  // a count of ticks
  params.require(threshold > 0, "'threshold' must be > 0");
  params.require(min_sd > 0, "'min_sd' must be > 0");
  const double window_ticks = window / to_seconds(params.tick());
  params.require(window_ticks >= 1, "'window' must span at least 1 tick");
  // A Recent (3 values) per pair and tick: the size decides (docs/detectors.md), counted as one
  // pair at least so that no window is too long to be held as a count of ticks.
  params.require_state(std::floor(window_ticks) * std::max<double>(series / 2, 1) * 24, "'window'");
  return std::make_unique<RegressionDetector>(series, static_cast<std::int64_t>(ticks), threshold,
                                              min_sd, static_cast<std::size_t>(window_ticks));
}

}  // namespace dosim

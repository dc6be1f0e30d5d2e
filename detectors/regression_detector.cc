#include "detectors/regression_detector.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace dosim {
namespace {

class RegressionDetector : public Detector {
 public:
  RegressionDetector(std::size_t series, std::int64_t training_ticks, double threshold,
                     double min_sd)
      : pairs_(series / 2),
        training_ticks_(training_ticks),
        threshold_(threshold),
        min_sd_(min_sd),
        sums_(pairs_),
        fit_(pairs_) {}

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
        score = static_cast<float>(std::fabs(y - (f.a + f.b * x)) / f.sd);
      }
      scores[p] = score;
      scores[pairs_ + p] = score;
    }
    ++seen_;
  }
  double limit() const override { return threshold_; }

 private:
  struct Sums {
    double n = 0, x = 0, y = 0, xx = 0, xy = 0, yy = 0;
  };
  struct Fit {
    double a = 0, b = 0, sd = 1;
  };

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
  std::int64_t seen_ = 0;
  std::vector<Sums> sums_;
  std::vector<Fit> fit_;
};

}  // namespace

std::unique_ptr<Detector> make_regression_detector(DetectorParams& params, std::size_t series) {
  const double training = params.get("training", 300);
  const double threshold = params.get("threshold", 3);
  const double min_sd = params.get("min_sd", 0.001);
  params.require(series % 2 == 0,
                 "kind regression watches two metrics of the same edges: [rps, a latency]");
  const double ticks = training / to_seconds(params.tick());
  params.require(ticks >= 3, "'training' must span at least 3 ticks");
  params.require(threshold > 0 && min_sd > 0, "'threshold' and 'min_sd' must be > 0");
  return std::make_unique<RegressionDetector>(series, static_cast<std::int64_t>(ticks), threshold,
                                              min_sd);
}

}  // namespace dosim

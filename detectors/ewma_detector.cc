#include "detectors/ewma_detector.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace dosim {
namespace {

class EwmaDetector : public Detector {
 public:
  EwmaDetector(std::size_t series, double alpha, double threshold, int warmup, int direction)
      : alpha_(alpha),
        threshold_(threshold),
        warmup_(warmup),
        direction_(direction),
        mean_(series),
        var_(series) {}

  void step(std::span<const float> values, std::span<float> scores) override {
    const double alpha = alpha_;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const double x = values[i];
      if (!std::isfinite(x)) {
        scores[i] = 0.0f;
        continue;
      }
      if (seen_ == 0) mean_[i] = x;
      const double deviation = x - mean_[i];
      const double sd = std::sqrt(var_[i]);
      const double signed_deviation =
          direction_ == 0 ? std::fabs(deviation) : std::max(0.0, direction_ * deviation);
      scores[i] = seen_ < warmup_ || sd <= 0 ? 0.0f : static_cast<float>(signed_deviation / sd);
      mean_[i] += alpha * deviation;
      var_[i] = (1.0 - alpha) * (var_[i] + alpha * deviation * deviation);
    }
    ++seen_;
  }
  double limit() const override { return threshold_; }

 private:
  double alpha_, threshold_;
  int warmup_;
  int direction_;
  int seen_ = 0;
  std::vector<double> mean_, var_;
};

}  // namespace

std::unique_ptr<Detector> make_ewma_detector(DetectorParams& params, std::size_t series) {
  const double alpha = params.get("alpha", 0.05);
  const double threshold = params.get("threshold", 4.0);
  const double warmup = params.get("warmup", 30);
  params.require(alpha > 0 && alpha < 1, "'alpha' must be in (0, 1)");
  params.require(threshold > 0, "'threshold' must be > 0");
  params.require(warmup >= 0 && warmup <= 1e9 && warmup == std::floor(warmup),
                 "'warmup' must be a whole number of ticks in [0, 1e9]");
  return std::make_unique<EwmaDetector>(series, alpha, threshold, static_cast<int>(warmup),
                                        params.direction());
}

}  // namespace dosim

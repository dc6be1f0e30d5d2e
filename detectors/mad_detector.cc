#include "detectors/mad_detector.h"

#include <algorithm>
#include <cmath>

#include "detectors/mad_kernel.h"

namespace dosim {
namespace {

class MadDetector : public Detector {
 public:
  MadDetector(std::size_t series, int window, double threshold, int direction)
      : kernel_(series, window), threshold_(threshold), direction_(direction) {}
  void step(std::span<const float> values, std::span<float> scores) override {
    kernel_.step(values, scores);  // signed z
    for (float& score : scores) {
      if (std::isnan(score)) score = 0.0f;
      score = direction_ == 0 ? std::fabs(score) : std::max(0.0f, float(direction_) * score);
    }
  }
  double limit() const override { return threshold_; }

 private:
  MadKernel kernel_;
  double threshold_;
  int direction_;
};

}  // namespace

std::unique_ptr<Detector> make_mad_detector(DetectorParams& params, std::size_t series) {
  const double window = params.get("window", 64);
  const double threshold = params.get("threshold", 3.5);
  params.require(window >= 3 && window <= 256 && window == std::floor(window),
                 "'window' must be a whole number in [3, 256]");
  params.require(threshold > 0, "'threshold' must be > 0");
  return std::make_unique<MadDetector>(series, static_cast<int>(window), threshold,
                                       params.direction());
}

}  // namespace dosim

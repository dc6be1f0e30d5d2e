#include "detectors/mad_detector.h"

#include <cmath>

#include "detectors/mad_kernel.h"

namespace dosim {
namespace {

class MadDetector : public Detector {
 public:
  MadDetector(std::size_t series, int window, double threshold)
      : kernel_(series, window), threshold_(threshold) {}
  void step(std::span<const float> values, std::span<float> scores) override {
    kernel_.step(values, scores);
    for (float& score : scores) score = std::isnan(score) ? 0.0f : std::fabs(score);
  }
  double limit() const override { return threshold_; }

 private:
  MadKernel kernel_;
  double threshold_;
};

}  // namespace

std::unique_ptr<Detector> make_mad_detector(DetectorParams& params, std::size_t series) {
  const double window = params.get("window", 64);
  const double threshold = params.get("threshold", 3.5);
  params.require(window >= 3 && window <= 256 && window == std::floor(window),
                 "'window' must be a whole number in [3, 256]");
  params.require(threshold > 0, "'threshold' must be > 0");
  return std::make_unique<MadDetector>(series, static_cast<int>(window), threshold);
}

}  // namespace dosim

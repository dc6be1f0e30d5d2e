#include "detectors/threshold_detector.h"

#include <algorithm>
#include <limits>

namespace dosim {
namespace {

class ThresholdDetector : public Detector {
 public:
  explicit ThresholdDetector(double above) : above_(above) {}
  void step(std::span<const float> values, std::span<float> scores) override {
    std::copy(values.begin(), values.end(), scores.begin());
  }
  double limit() const override { return above_; }

 private:
  double above_;
};

}  // namespace

std::unique_ptr<Detector> make_threshold_detector(DetectorParams& params, std::size_t) {
  const double above = params.get("above", std::numeric_limits<double>::quiet_NaN());
  params.require(above == above, "kind threshold needs the parameter 'above'");
  return std::make_unique<ThresholdDetector>(above);
}

}  // namespace dosim

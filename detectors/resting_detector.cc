#include "detectors/resting_detector.h"

#include <algorithm>
#include <vector>

namespace dosim {
namespace {

class RestingDetector : public Detector {
 public:
  RestingDetector(std::unique_ptr<Detector> inner, std::size_t series, std::int64_t rest)
      : inner_(std::move(inner)),
        rest_(rest),
        limit_(static_cast<float>(inner_->limit())),
        since_alert_(series, rest) {}

  void step(std::span<const float> values, std::span<float> scores) override {
    inner_->step(values, scores);
    for (std::size_t i = 0; i < scores.size(); ++i) {
      const float score = scores[i];
      if (since_alert_[i] < rest_) {  // resting: quiet, whatever the score
        ++since_alert_[i];
        scores[i] = 0.0f;
      } else if (score > limit_) {  // an alert: rest from the next tick
        since_alert_[i] = 0;
      }
    }
  }
  double limit() const override { return limit_; }
  std::vector<std::string> gauge_kinds() const override { return inner_->gauge_kinds(); }
  std::size_t gauge_groups() const override { return inner_->gauge_groups(); }
  void read_gauges(std::span<float> out) const override { inner_->read_gauges(out); }

 private:
  std::unique_ptr<Detector> inner_;
  std::int64_t rest_;
  float limit_;                            // compared as float32, as the runner compares scores
  std::vector<std::int64_t> since_alert_;  // ticks since the last reported alert, up to rest
};

}  // namespace

std::unique_ptr<Detector> make_resting_detector(std::unique_ptr<Detector> inner, std::size_t series,
                                                std::int64_t rest) {
  return std::make_unique<RestingDetector>(std::move(inner), series, rest);
}

}  // namespace dosim

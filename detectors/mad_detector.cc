#include "detectors/mad_detector.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "detectors/mad_kernel.h"

namespace dosim {
namespace {

// Iglewicz and Hoaglin's consistency constant of the mean absolute deviation.
constexpr double kMeanAdScale = 1.253314;

class MadDetector : public Detector {
 public:
  MadDetector(std::size_t series, int window, double threshold, int direction, bool meanad)
      : kernel_(series, window, SimdPath::kAuto, meanad ? MadScore::kSigned : output_of(direction)),
        threshold_(threshold),
        direction_(direction),
        window_(static_cast<std::size_t>(window)),
        meanad_(meanad) {
    if (meanad_) {
      ring_.assign(series * window_, 0.0f);
      head_.assign(series, 0);
      count_.assign(series, 0);
    }
  }
  // The kernel's output for a direction: |z|, or the side that counts (NaN: 0).
  static MadScore output_of(int direction) {
    return direction == 0 ? MadScore::kAbsolute : direction > 0 ? MadScore::kUp : MadScore::kDown;
  }

  void step(std::span<const float> values, std::span<float> scores) override {
    kernel_.step(values, scores);  // the direction's score; signed z with meanad
    if (!meanad_) return;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      float& score = scores[i];
      if (meanad_) score = fall_back(i, values[i], score);
      if (std::isnan(score)) score = 0.0f;
      score = direction_ == 0 ? std::fabs(score) : std::max(0.0f, float(direction_) * score);
    }
  }
  double limit() const override { return threshold_; }

 private:
  // `meanad`: where MAD is 0 and x is not the median, (x - m) / (1.253314 MeanAD) instead of
  // the kernel's +-kMadZeroScore (+-kMadZeroScore still when MeanAD is 0 too). Keeps its own
  // copy of the window (the finite values the kernel pushed), read only in that case.
  float fall_back(std::size_t i, float x, float score) {
    float* ring = ring_.data() + i * window_;
    if (std::fabs(score) == kMadZeroScore && count_[i] == window_) {
      scratch_.assign(ring, ring + window_);
      std::sort(scratch_.begin(), scratch_.end());
      const std::size_t w = window_;
      const float median =
          w % 2 ? scratch_[(w - 1) / 2] : (scratch_[w / 2 - 1] + scratch_[w / 2]) * 0.5f;
      double deviation = 0.0;
      for (float v : scratch_) deviation += std::fabs(static_cast<double>(v) - median);
      const double meanad = deviation / static_cast<double>(w);
      if (meanad > 0.0) score = static_cast<float>((x - median) / (kMeanAdScale * meanad));
    }
    if (std::isfinite(x)) {  // as the kernel: only finite values join the window
      ring[head_[i]] = x == 0.0f ? 0.0f : x;
      head_[i] = (head_[i] + 1) % window_;
      count_[i] = std::min(count_[i] + 1, window_);
    }
    return score;
  }

  MadKernel kernel_;
  double threshold_;
  int direction_;
  std::size_t window_;
  bool meanad_;
  std::vector<float> ring_;  // [series][window], meanad only
  std::vector<std::size_t> head_, count_;
  std::vector<float> scratch_;
};

}  // namespace

std::unique_ptr<Detector> make_mad_detector(DetectorParams& params, std::size_t series) {
  const double window = params.get("window", 64);
  const double threshold = params.get("threshold", 3.5);
  const double meanad = params.get("meanad", 0);
  params.require(window >= 3 && window <= 256 && window == std::floor(window),
                 "'window' must be a whole number in [3, 256]");
  params.require(threshold > 0, "'threshold' must be > 0");
  params.require(meanad == 0 || meanad == 1, "'meanad' must be 0 or 1");
  return std::make_unique<MadDetector>(series, static_cast<int>(window), threshold,
                                       params.direction(), meanad == 1);
}

}  // namespace dosim

#include "detectors/burn_rate_detector.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

#include "util/zeroed_array.h"

namespace dosim {
namespace {

class BurnRateDetector : public Detector {
 public:
  // windows: long_fast, short_fast, long_slow, short_slow, in ticks.
  BurnRateDetector(std::size_t series, double budget, std::array<std::int64_t, 4> windows,
                   double rate_fast, double rate_slow)
      : budget_(budget),
        windows_(windows),
        rate_fast_(rate_fast),
        rate_slow_(rate_slow),
        ring_length_(*std::max_element(windows.begin(), windows.end())),
        ring_(static_cast<std::size_t>(ring_length_) * series),
        sums_(4 * series, 0.0),
        series_(series) {}

  void step(std::span<const float> values, std::span<float> scores) override {
    const std::int64_t slot = seen_ % ring_length_;
    for (std::size_t i = 0; i < series_; ++i) {
      const double x = std::isfinite(values[i]) ? values[i] : 0.0;
      double burn[4];
      for (int w = 0; w < 4; ++w) {
        double& sum = sums_[w * series_ + i];
        sum += x;
        if (seen_ >= windows_[w]) {  // the value that leaves window w
          const std::int64_t leaving = (seen_ - windows_[w]) % ring_length_;
          sum -= ring_[static_cast<std::size_t>(leaving) * series_ + i];
        }
        const double count = static_cast<double>(std::min<std::int64_t>(seen_ + 1, windows_[w]));
        burn[w] = sum / count / budget_;
      }
      ring_[static_cast<std::size_t>(slot) * series_ + i] = static_cast<float>(x);
      scores[i] = static_cast<float>(std::max(std::min(burn[0], burn[1]) / rate_fast_,
                                              std::min(burn[2], burn[3]) / rate_slow_));
    }
    ++seen_;
  }
  double limit() const override { return 1.0; }

 private:
  double budget_;
  std::array<std::int64_t, 4> windows_;
  double rate_fast_, rate_slow_;
  std::int64_t ring_length_;
  ZeroedArray<float> ring_;   // [ring_length][series], touched as it fills
  std::vector<double> sums_;  // [4][series]
  std::size_t series_;
  std::int64_t seen_ = 0;
};

}  // namespace

std::unique_ptr<Detector> make_burn_rate_detector(DetectorParams& params, std::size_t series) {
  // (A replayed file's `value`, as dosim nab run feeds it, is whatever the file holds.)
  for (const std::string& metric : params.spec().metrics)
    params.require(metric == "error_ratio" || metric == "value",
                   "kind burn_rate watches error_ratio (the SLO's errors), not " + metric);
  const double objective = params.get("objective", 99.9);
  // A fraction (0.999, as remediation's `slo:` takes it) would read as 0.999 %: a budget of
  // 99 % that no error ratio burns. No SLO is 1 % or less (docs/detectors.md: in (1, 100)).
  params.require(!(objective > 0 && objective < 1),
                 "'objective' is a percent: 99.9 for a 99.9 % SLO, not 0.999");
  params.require(objective > 1 && objective < 100, "'objective' must be a percent in (1, 100)");
  const double tick_s = to_seconds(params.tick());
  std::array<std::int64_t, 4> windows{};
  const char* names[] = {"long_fast", "short_fast", "long_slow", "short_slow"};
  const double defaults[] = {3600, 300, 21600, 1800};
  for (int w = 0; w < 4; ++w) {
    const double seconds = params.get(names[w], defaults[w]);
    params.require(seconds >= tick_s, std::string("'") + names[w] + "' must be at least a tick");
    params.require(seconds / tick_s <= 1e7,
                   std::string("'") + names[w] + "' is longer than 10,000,000 ticks");
    windows[w] = static_cast<std::int64_t>(std::llround(seconds / tick_s));
  }
  // A short window longer than its long one scores as the pair swapped (min of the two): a
  // typo that would pass unseen. Said at the long one (checked again with its default).
  const auto seconds_text = [](double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", seconds);
    return std::string(text);
  };
  const auto given = [&params](const char* name) {
    return std::any_of(params.spec().params.begin(), params.spec().params.end(),
                       [name](const auto& param) { return param.first == name; });
  };
  for (int pair : {0, 2}) {
    const double long_s = params.get(names[pair], defaults[pair]);
    const double short_s = params.get(names[pair + 1], defaults[pair + 1]);
    params.require(short_s <= long_s,
                   std::string("'") + names[pair] + "' (" + seconds_text(long_s) +
                       ") is shorter than '" + names[pair + 1] + "' (" + seconds_text(short_s) +
                       (given(names[pair + 1]) ? "): swapped?" : ", its default)"));
  }
  params.require_state(static_cast<double>(*std::max_element(windows.begin(), windows.end())) *
                           static_cast<double>(series) * sizeof(float),
                       "the windows");
  const double rate_fast = params.get("rate_fast", 14.4);
  const double rate_slow = params.get("rate_slow", 6.0);
  params.require(rate_fast > 0, "'rate_fast' (a burn rate) must be > 0");
  params.require(rate_slow > 0, "'rate_slow' (a burn rate) must be > 0");
  return std::make_unique<BurnRateDetector>(series, 1.0 - objective / 100.0, windows, rate_fast,
                                            rate_slow);
}

}  // namespace dosim

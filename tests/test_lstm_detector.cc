// The lstm detector (detectors/lstm_detector.h) with the shipped model: its metrics are
// required in order, warm-up scores 0, a series noisier than the training data learns its
// own error scale from its normal misses (adapt) so its scores fall, that scale never learns
// from anomalies, and a huge input does not saturate the state (the input is clamped, the
// score is not).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "dosim/detectors/detector.h"
#include "detectors/lstm_cuda.h"
#include "detectors/lstm_model.h"
#include "dosim/error.h"

using namespace dosim;

namespace {

const std::string kModel = std::string(DOSIM_SOURCE_DIR) + "/models/lstm-noop.h5";

std::unique_ptr<Detector> lstm(std::vector<std::pair<std::string, double>> params) {
  DetectorSpec spec;
  spec.name = spec.kind = "lstm";
  spec.model = kModel;
  spec.metrics = load_lstm_model(kModel).metrics;
  spec.params = std::move(params);
  return make_detector(spec, spec.metrics.size(), "t.yaml", kSecond);
}

// One column: the model's mean for every metric, latency (metric 2) plus `wiggle`.
std::vector<float> tick(const LstmModel& model, float wiggle) {
  std::vector<float> values(model.mean.begin(), model.mean.end());
  values[2] += wiggle;
  return values;
}

}  // namespace

TEST_CASE("lstm learns a noisy series' own error scale from its normal misses", "[lstm]") {
  const LstmModel model = load_lstm_model(kModel);
  // Noise of about 3 of the model's error sds: below the threshold of 4 most of the time,
  // so the series' scale learns it; with the model's scale alone it keeps scoring high.
  const float noise = 3.0f * model.std[2] * model.error_std[2];
  auto fixed = lstm({{"adapt", 0}, {"warmup", 10}});
  auto adaptive = lstm({{"adapt", 60}, {"warmup", 10}});
  std::vector<float> a(4), b(4);
  std::vector<float> fixed_scores, adaptive_scores;
  for (int t = 0; t < 1200; ++t) {
    const auto values = tick(model, t < 100 ? 0.0f : (t % 2 == 0 ? noise : -noise));
    fixed->step(values, a);
    adaptive->step(values, b);
    if (t < 10) CHECK((a[2] == 0.0f && b[2] == 0.0f));  // warm-up
    fixed_scores.push_back(a[2]);
    adaptive_scores.push_back(b[2]);
  }
  const auto mean = [](const std::vector<float>& s, int from, int to) {
    double sum = 0;
    for (int t = from; t < to; ++t) sum += s[t];
    return sum / (to - from);
  };
  INFO("fixed " << mean(fixed_scores, 1000, 1200) << ", adaptive "
                << mean(adaptive_scores, 1000, 1200));
  CHECK(mean(adaptive_scores, 1000, 1200) < 0.6 * mean(fixed_scores, 1000, 1200));
  CHECK(mean(adaptive_scores, 100, 110) > 0.8 * mean(fixed_scores, 100, 110));  // not learned yet
}

TEST_CASE("lstm's scale does not learn from a sustained anomaly", "[lstm]") {
  const LstmModel model = load_lstm_model(kModel);
  auto detector = lstm({{"adapt", 60}, {"warmup", 10}});
  std::vector<float> scores(4);
  const float jump = 50.0f * model.std[2] * model.error_std[2];
  float last = 0;
  for (int t = 0; t < 600; ++t) {
    // A level shift at 200 s that lasts: the forecaster chases it, but the scale never
    // absorbs the misses it calls anomalous, and the values stay finite.
    detector->step(tick(model, t < 200 ? 0.0f : jump * (t % 2 == 0 ? 1.0f : -1.0f)), scores);
    for (float s : scores) REQUIRE(std::isfinite(s));
    last = scores[2];
  }
  CHECK(last > 4.0f);
}

TEST_CASE("lstm needs its model's metrics, in order", "[lstm]") {
  DetectorSpec spec;
  spec.name = spec.kind = "lstm";
  spec.model = kModel;
  spec.metrics = {"rps", "latency_p95_s"};
  CHECK_THROWS_WITH(make_detector(spec, 2, "t.yaml"),
                    Catch::Contains("watches the metrics its model was trained on, in order"));
  spec.model = "/no/such/model.h5";
  spec.metrics = load_lstm_model(kModel).metrics;
  CHECK_THROWS_AS(make_detector(spec, 4, "t.yaml"), InputError);
}

TEST_CASE("lstm on a GPU is refused clearly where there is none", "[lstm]") {
  if (lstm_cuda_built() && lstm_cuda_devices() > 0) return;  // the GPU check covers it there
  DetectorSpec spec;
  spec.name = spec.kind = "lstm";
  spec.model = kModel;
  spec.metrics = load_lstm_model(kModel).metrics;
  spec.params = {{"gpu", 1}};
  spec.pos = {3, 5};
  spec.param_value_pos = {{3, 40}};
  try {
    make_detector(spec, 4, "t.yaml");
    FAIL("made");
  } catch (const InputError& error) {
    CHECK_THAT(error.what(), Catch::Contains("'gpu: 1' needs a CUDA build"));
    // At the value (it was at the detector: "'gpu: 1'" named no parameter).
    CHECK(error.diagnostics().front().line == 3);
    CHECK(error.diagnostics().front().column == 40);
  }
}

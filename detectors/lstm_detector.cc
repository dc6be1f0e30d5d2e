#include "detectors/lstm_detector.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "detectors/lstm_cuda.h"
#include "detectors/lstm_model.h"

namespace dosim {
namespace {

constexpr float kInputClamp = 10.0f;  // normalized units fed to the LSTM

class LstmDetector : public Detector {
 public:
  LstmDetector(LstmModel model, std::size_t columns, double threshold, std::int64_t warmup,
               double adapt_ticks, bool on_gpu)
      : model_(std::move(model)),
        columns_(columns),
        kernel_(model_.weights, columns),
        threshold_(threshold),
        warmup_(warmup),
        adapt_(adapt_ticks > 0 ? 1.0 / adapt_ticks : 0.0),
        x_(model_.metrics.size() * columns),
        forecast_(x_.size(), 0.0f),
        error_var_(x_.size(), 0.0) {
    if (on_gpu) gpu_ = std::make_unique<LstmCudaKernel>(model_.weights, columns);
    for (std::size_t m = 0; m < model_.metrics.size(); ++m)
      for (std::size_t col = 0; col < columns; ++col)
        error_var_[m * columns + col] = double(model_.error_std[m]) * model_.error_std[m];
  }

  void step(std::span<const float> values, std::span<float> scores) override {
    const std::size_t metrics = model_.metrics.size();
    for (std::size_t m = 0; m < metrics; ++m) {
      for (std::size_t col = 0; col < columns_; ++col) {
        const std::size_t i = m * columns_ + col;
        const float value = values[i];
        const float normalized =
            std::isfinite(value) ? (value - model_.mean[m]) / model_.std[m] : forecast_[i];
        const float miss = std::fabs(normalized - forecast_[i]);
        // The series' own error scale, learned as it runs (an exponentially weighted mean
        // of squared misses over `adapt` ticks), never below the model's: a series noisier
        // than the training data stops alarming, a quiet one keeps the model's sensitivity.
        const double scale = std::max<double>(model_.error_std[m], std::sqrt(error_var_[i]));
        const float error = static_cast<float>(miss / scale);
        scores[i] = seen_ < warmup_ || !std::isfinite(value) ? 0.0f : error;
        // It does not learn from misses it calls anomalous: an incident must not become the
        // series' normal scale while it lasts.
        if (std::isfinite(value) && adapt_ > 0 && !(error > threshold_))
          error_var_[i] += adapt_ * (double(miss) * miss - error_var_[i]);
        // The model learned fault-free data; an input far outside it (an error ratio where
        // training saw none) would saturate the column's state for long after: clamp it.
        x_[i] = std::clamp(normalized, -kInputClamp, kInputClamp);
      }
    }
    if (gpu_)
      gpu_->step(x_, forecast_);
    else
      kernel_.step(x_, forecast_);
    ++seen_;
  }
  double limit() const override { return threshold_; }

 private:
  LstmModel model_;
  std::size_t columns_;
  LstmKernel kernel_;
  std::unique_ptr<LstmCudaKernel> gpu_;  // `gpu: 1`: the steps run there instead
  double threshold_;
  std::int64_t warmup_;
  double adapt_;  // weight of a new squared miss in error_var_; 0: the model's scale only
  std::int64_t seen_ = 0;
  std::vector<float> x_, forecast_;  // [metric][column]
  std::vector<double> error_var_;    // [metric][column]
};

}  // namespace

std::unique_ptr<Detector> make_lstm_detector(DetectorParams& params, std::size_t series) {
  const double threshold = params.get("threshold", 4);
  const double warmup = params.get("warmup", 30);
  const double adapt = params.get("adapt", 600);
  const double gpu = params.get("gpu", 0);
  params.require(gpu == 0 || gpu == 1, "'gpu' must be 0 or 1");
  params.require(
      gpu == 0 || (lstm_cuda_built() && lstm_cuda_devices() > 0),
      lstm_cuda_built()
          ? "'gpu: 1' needs a device: " + lstm_cuda_device_name()
          : std::string("'gpu: 1' needs a CUDA build (-DDOSIM_CUDA=ON) and a device: dosim was "
                        "built without CUDA"));
  params.require(threshold > 0, "'threshold' must be > 0");
  params.require(adapt >= 0 && adapt <= 1e9, "'adapt' must be in [0, 1e9] s (0: off)");
  params.require(warmup >= 0 && warmup <= 1e9 && warmup == std::floor(warmup),
                 "'warmup' must be a whole number of ticks in [0, 1e9]");
  const DetectorSpec& spec = params.spec();
  LstmModel model = *shared_lstm_model(spec.model.empty() ? default_lstm_model_path() : spec.model);
  std::string wanted;
  for (const std::string& m : model.metrics) wanted += (wanted.empty() ? "" : ", ") + m;
  params.require(spec.metrics == model.metrics,
                 "kind lstm watches the metrics its model was trained on, in order: [" + wanted +
                     "] (" + model.path + ")");
  params.require(series % model.metrics.size() == 0, "series do not divide into columns");
  return std::make_unique<LstmDetector>(std::move(model), series / model.metrics.size(), threshold,
                                        static_cast<std::int64_t>(warmup),
                                        adapt / to_seconds(params.tick()), gpu == 1);
}

}  // namespace dosim

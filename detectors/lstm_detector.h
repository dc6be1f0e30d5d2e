// `lstm`: a learned detector. A stacked LSTM trained with analysis/train_lstm.py forecasts
// each watched column's metrics one tick ahead; a series' score is how far its value lands
// from the forecast, in the model's forecast-error standard deviations:
//   x_norm = (x - mean[m]) / std[m],  score = |x_norm - forecast_m| / scale
// where the forecast was made at the previous tick and scale is the larger of the model's
// error_std[m] and the series' own: the root of an exponentially weighted mean of its
// squared misses over `adapt` seconds, updated only with misses it does not call anomalous
// (a noisier series than the training data's stops alarming; an incident never becomes the
// normal scale). The batch is the columns (services,
// edges or endpoints); the input is the model's metrics of one column, so the spec's
// `metrics` must be the model's, in its order (an error otherwise). Streaming: each column
// carries its (h, c) and advances one step per tick (detectors/lstm_kernel.h).
// `model:` names the file (default: default_lstm_model_path()). Parameters: `gpu` (0; 1 runs
// the LSTM's steps on a GPU, lstm_cuda.h: needs a CUDA build and a device, and gives scores
// within rounding of the CPU's, not bit for bit), `adapt` (600 s; 0 keeps the model's
// scale), `threshold` (4,
// the limit), `warmup` (30 ticks scored 0 while the state settles). A non-finite value is
// replaced by its forecast and scores 0. The LSTM's input is clamped to +/-10 normalized
// units (the score is not): a value far outside the fault-free data the model learned would
// otherwise saturate the column's state long after it.
#pragma once

#include "dosim/detectors/detector.h"

namespace dosim {
std::unique_ptr<Detector> make_lstm_detector(DetectorParams& params, std::size_t series);
}

// The lstm detector's model file (HDF5, layout in docs/detectors.md, "lstm: model file"),
// written by analysis/train_lstm.py: the weights of a stacked LSTM with a linear head in
// PyTorch's layout, the per-metric normalization and the spread of the forecast error.
// Reading is strict: a missing dataset, a wrong shape or a non-finite value is an
// InputError naming the file and what is wrong. Not thread-safe (HDF5 serial).
#pragma once

#include <string>
#include <vector>

#include "detectors/lstm_kernel.h"

namespace dosim {

struct LstmModel {
  std::string path;
  std::string trained_on;            // root attribute, e.g. the training trace's scenario
  std::vector<std::string> metrics;  // [I]: the input features, in order
  std::vector<float> mean, std;      // [I]: x_norm = (x - mean) / std
  std::vector<float> error_std;      // [I]: spread of the normalized one-step forecast error
  LstmWeights weights;
};

// Throws InputError (engine/diagnostics.h). `group`: where in the file the model lies (the
// root for a model file; a group of tests/data/lstm_golden.h5 for the golden vectors).
LstmModel load_lstm_model(const std::string& path, const std::string& group = "/");

// The model `dosim bench --detectors lstm` and a `kind: lstm` detector without `model:`
// use: $DOSIM_LSTM_MODEL, else models/lstm-noop.h5 of the source tree dosim was built from.
std::string default_lstm_model_path();

}  // namespace dosim

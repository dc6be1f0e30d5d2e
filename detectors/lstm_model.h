// The lstm detector's model file (HDF5, layout in docs/detectors.md, "lstm: model file"),
// written by analysis/train_lstm.py: the weights of a stacked LSTM with a linear head in
// PyTorch's layout, the per-metric normalization and the spread of the forecast error.
// Reading is strict: a missing dataset, a wrong shape or a non-finite value is an
// ModelError naming the file and what is wrong. load_lstm_model() is not thread-safe (HDF5
// is serial); shared_lstm_model() is: it reads each file once per process, under a lock, and
// hands every later caller (a bench's K runs, say) the same read-only model.
#pragma once

#include <memory>
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

// Throws ModelError (dosim/error.h). `group`: where in the file the model lies (the
// root for a model file; a group of tests/data/lstm_golden.h5 for the golden vectors).
LstmModel load_lstm_model(const std::string& path, const std::string& group = "/");

// The model at `path` (the root group), read on first use and kept for the process.
// Thread-safe. Throws ModelError, every time it is asked for a file that does not load.
std::shared_ptr<const LstmModel> shared_lstm_model(const std::string& path);

// The model `dosim bench --detectors lstm` and a `kind: lstm` detector without `model:`
// use: $DOSIM_LSTM_MODEL, else models/lstm-noop.h5 of dosim's data folder (util/data_dir.h).
std::string default_lstm_model_path();

}  // namespace dosim

// Random LSTM weights for tests and benchmarks of the LSTM kernels (test_lstm_kernel.cc,
// gpu/lstm_cuda_check.cc, bench/bench_lstm.cc): PyTorch's default initialisation, uniform in
// +/- 1/sqrt(hidden), from a seeded std::mt19937, so every caller draws the same weights.
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "detectors/lstm_kernel.h"

namespace dosim::testing {

inline LstmWeights random_lstm_weights(int input, int hidden, int layers, unsigned seed) {
  std::mt19937 rng(seed);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hidden));
  std::uniform_real_distribution<float> uniform(-scale, scale);
  auto fill = [&](std::size_t n) {
    std::vector<float> values(n);
    for (float& v : values) v = uniform(rng);
    return values;
  };
  LstmWeights w;
  w.input = input;
  w.hidden = hidden;
  w.layers = layers;
  const std::size_t gates = 4 * static_cast<std::size_t>(hidden);
  for (int l = 0; l < layers; ++l) {
    const std::size_t in = static_cast<std::size_t>(l == 0 ? input : hidden);
    w.layer.push_back({fill(gates * in), fill(gates * hidden), fill(gates), fill(gates)});
  }
  w.head_w = fill(static_cast<std::size_t>(input) * hidden);
  w.head_b = fill(static_cast<std::size_t>(input));
  return w;
}

}  // namespace dosim::testing

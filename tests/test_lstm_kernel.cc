// The LSTM kernel (detectors/lstm_kernel.h): every SIMD path gives bit-identical forecasts
// and states, they agree with the plain reference (std::tanh, 1 / (1 + e^-x)) within 1e-5
// relative, sequences are independent of their neighbours in the batch, and reset() forgets.
// PyTorch's own nn.LSTM is the judge in test_lstm_golden.cc.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "detectors/lstm_kernel.h"
#include "lstm_test_support.h"

using dosim::LstmKernel;
using dosim::LstmWeights;
using dosim::SimdPath;

namespace {

LstmWeights random_weights(int input, int hidden, int layers, unsigned seed) {
  return dosim::testing::random_lstm_weights(input, hidden, layers, seed);
}

// x[t][m][b]: feature-major per step, as LstmKernel::step takes it.
std::vector<float> random_inputs(int steps, int input, std::size_t batch, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.5f);
  std::vector<float> x(static_cast<std::size_t>(steps) * input * batch);
  for (float& v : x) v = normal(rng);
  return x;
}

std::vector<float> run(LstmKernel& kernel, const std::vector<float>& x, int steps) {
  const std::size_t per_step = static_cast<std::size_t>(kernel.input()) * kernel.batch();
  std::vector<float> out(x.size());
  for (int t = 0; t < steps; ++t)
    kernel.step(std::span<const float>(x.data() + t * per_step, per_step),
                std::span<float>(out.data() + t * per_step, per_step));
  return out;
}

}  // namespace

TEST_CASE("every LSTM path gives bit-identical forecasts and states", "[lstm]") {
  for (const auto& [input, hidden, layers] :
       std::vector<std::tuple<int, int, int>>{{4, 8, 1}, {3, 16, 2}, {8, 32, 1}, {5, 7, 3}}) {
    const LstmWeights weights = random_weights(input, hidden, layers, 11);
    for (const std::size_t batch : {1, 15, 16, 37, 100}) {
      const auto x = random_inputs(20, input, batch, 7);
      LstmKernel scalar(weights, batch, SimdPath::kScalar);
      const auto expected = run(scalar, x, 20);
      for (const SimdPath path : dosim::MadKernel::available_paths()) {
        INFO("path " << dosim::MadKernel::path_name(path) << " I=" << input << " H=" << hidden
                     << " L=" << layers << " batch " << batch);
        LstmKernel kernel(weights, batch, path);
        REQUIRE(kernel.path() == path);
        CHECK(run(kernel, x, 20) == expected);
        for (int l = 0; l < layers; ++l)
          for (std::size_t b = 0; b < batch; b += 7) {
            CHECK(kernel.h(l, b) == scalar.h(l, b));
            CHECK(kernel.c(l, b) == scalar.c(l, b));
          }
      }
    }
  }
}

TEST_CASE("the LSTM kernel agrees with the plain reference within 1e-5", "[lstm]") {
  const int steps = 30;
  for (const auto& [input, hidden, layers] :
       std::vector<std::tuple<int, int, int>>{{4, 8, 1}, {3, 16, 2}, {8, 64, 1}}) {
    const LstmWeights weights = random_weights(input, hidden, layers, 3);
    const std::size_t batch = 9;
    const auto x = random_inputs(steps, input, batch, 5);
    LstmKernel kernel(weights, batch);
    const auto forecasts = run(kernel, x, steps);
    for (std::size_t b = 0; b < batch; ++b) {
      std::vector<float> sequence;  // [t][m] of sequence b
      for (int t = 0; t < steps; ++t)
        for (int m = 0; m < input; ++m)
          sequence.push_back(x[(static_cast<std::size_t>(t) * input + m) * batch + b]);
      std::vector<float> h, c;
      const auto reference = dosim::lstm_reference(weights, sequence, steps, &h, &c);
      for (int t = 0; t < steps; ++t)
        for (int m = 0; m < input; ++m) {
          const float got = forecasts[(static_cast<std::size_t>(t) * input + m) * batch + b];
          const float want = reference[static_cast<std::size_t>(t) * input + m];
          INFO("I=" << input << " H=" << hidden << " L=" << layers << " b " << b << " t " << t);
          CHECK(std::fabs(got - want) <= 1e-5f * std::max(std::fabs(want), 0.1f));
        }
      for (int l = 0; l < layers; ++l)
        for (int j = 0; j < hidden; ++j) {
          const float want_h = h[static_cast<std::size_t>(l) * hidden + j];
          const float want_c = c[static_cast<std::size_t>(l) * hidden + j];
          CHECK(std::fabs(kernel.h(l, b)[j] - want_h) <= 1e-5f * std::max(std::fabs(want_h), 0.1f));
          CHECK(std::fabs(kernel.c(l, b)[j] - want_c) <= 1e-5f * std::max(std::fabs(want_c), 0.1f));
        }
    }
  }
}

TEST_CASE("LSTM sequences do not see their batch neighbours, and reset forgets", "[lstm]") {
  const LstmWeights weights = random_weights(3, 12, 2, 9);
  const int steps = 10;
  const auto x = random_inputs(steps, 3, 40, 13);
  LstmKernel many(weights, 40);
  const auto together = run(many, x, steps);
  // Sequence 17 alone gives the same forecasts, bit for bit.
  std::vector<float> alone_x;
  for (int t = 0; t < steps; ++t)
    for (int m = 0; m < 3; ++m)
      alone_x.push_back(x[(static_cast<std::size_t>(t) * 3 + m) * 40 + 17]);
  LstmKernel one(weights, 1);
  const auto alone = run(one, alone_x, steps);
  for (int t = 0; t < steps; ++t)
    for (int m = 0; m < 3; ++m)
      CHECK(alone[static_cast<std::size_t>(t) * 3 + m] ==
            together[(static_cast<std::size_t>(t) * 3 + m) * 40 + 17]);
  many.reset();
  CHECK(run(many, x, steps) == together);
  CHECK_THROWS_AS(LstmKernel(weights, 0), std::invalid_argument);
  LstmWeights bad = weights;
  bad.head_b.pop_back();
  CHECK_THROWS_AS(LstmKernel(bad, 4), std::invalid_argument);
}

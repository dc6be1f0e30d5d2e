// LstmKernel throughput (docs/detectors.md, "lstm"): series-steps per second.
//   BM_LstmSequence: I = 8, T = 60, batch 1024, hidden 32 / 64 / 128 (the shapes the issue
//     compares with oneDNN's LSTM; bench/run_lstm_comparison.sh runs both side by side).
//     One iteration = T steps of every sequence; items = T x batch series-steps.
//   BM_LstmStreaming: one tick of 10,000 series at hidden 64 (I = 4, the detector's usual
//     width); items = series.
// Paths as bench_mad: scalar, avx2, avx512 forced, or dispatched (DOSIM_SIMD).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "detectors/lstm_kernel.h"
#include "tests/lstm_test_support.h"

namespace {

dosim::LstmWeights weights_for(int input, int hidden) {
  return dosim::testing::random_lstm_weights(input, hidden, 1, 1);
}

void run_steps(benchmark::State& state, dosim::SimdPath path, int input, int hidden,
               std::size_t batch, int steps) {
  if (path != dosim::SimdPath::kAuto && dosim::MadKernel::resolve(path) != path) {
    state.SkipWithError("path not available on this CPU");
    return;
  }
  dosim::LstmKernel kernel(weights_for(input, hidden), batch, path);
  std::mt19937 rng(2);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(steps) * input * batch);
  for (float& v : x) v = normal(rng);
  std::vector<float> forecast(static_cast<std::size_t>(input) * batch);
  const std::size_t per_step = static_cast<std::size_t>(input) * batch;
  for (auto _ : state) {
    for (int t = 0; t < steps; ++t)
      kernel.step(std::span<const float>(x.data() + t * per_step, per_step), forecast);
    benchmark::DoNotOptimize(forecast.data());
  }
  state.SetItemsProcessed(state.iterations() * steps * static_cast<std::int64_t>(batch));
  state.SetLabel(std::string(dosim::MadKernel::path_name(kernel.path())));
}

void BM_LstmSequence(benchmark::State& state, dosim::SimdPath path) {
  run_steps(state, path, 8, static_cast<int>(state.range(0)), 1024, 60);
}

void BM_LstmStreaming(benchmark::State& state, dosim::SimdPath path) {
  run_steps(state, path, 4, 64, static_cast<std::size_t>(state.range(0)), 1);
}

}  // namespace

BENCHMARK_CAPTURE(BM_LstmSequence, dispatched, dosim::SimdPath::kAuto)
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LstmSequence, avx2, dosim::SimdPath::kAvx2)
    ->Arg(32)
    ->Arg(64)
    ->Arg(128)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LstmSequence, scalar, dosim::SimdPath::kScalar)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LstmStreaming, dispatched, dosim::SimdPath::kAuto)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LstmStreaming, avx2, dosim::SimdPath::kAvx2)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();

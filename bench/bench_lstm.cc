// LstmKernel throughput (docs/detectors.md, "lstm"): series-steps per second.
//   BM_LstmSequence: I = 8, T = 60, batch 1024, hidden 32 / 64 / 128 (the shapes the issue
//     compares with oneDNN's LSTM; bench/run_lstm_comparison.sh runs both side by side).
//     One iteration = T steps of every sequence; items = T x batch series-steps.
//   BM_LstmStreaming: one tick of 10,000 series at hidden 64 (I = 4, the detector's usual
//     width); items = series.
// Paths as bench_mad: scalar, avx2, avx512 forced, or dispatched (DOSIM_SIMD).
//
// On a GPU (LstmCudaKernel; registered only in a CUDA build, -DDOSIM_CUDA=ON, and reporting
// an error that names why when no device is visible; bench/gpu_check.sh runs them):
//   BM_LstmCudaSequence/<hidden>/<batch>: I = 8, T = 60 steps of every sequence in one
//     launch (run()), wall time with the copies of x to the device and of the forecasts back;
//     items = T x batch series-steps.
//   BM_LstmCudaKernel/<hidden>/<batch>: the same launches timed by CUDA events around the
//     kernel alone (last_kernel_seconds()): the kernel's own rate, which the target of
//     0.5 G series-steps/s at hidden 64 is about.
//   BM_LstmCudaStreaming/10000: the detector's case on a GPU: one step (one launch, copies
//     included) of 10,000 series at hidden 64 (I = 4); items = series.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "detectors/lstm_cuda.h"
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

// Normal inputs, made once per size (the GPU shapes hold up to 63 M values).
const std::vector<float>& inputs(std::size_t count) {
  static std::map<std::size_t, std::vector<float>> made;
  auto [at, fresh] = made.try_emplace(count);
  if (fresh) {
    std::mt19937 rng(2);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    at->second.resize(count);
    for (float& v : at->second) v = normal(rng);
  }
  return at->second;
}

// `steps` steps of `batch` sequences per launch on the GPU; with `kernel_only`, each
// iteration's time is the kernel's own (CUDA events), for UseManualTime().
void run_cuda(benchmark::State& state, int input, int hidden, std::size_t batch, int steps,
              bool kernel_only) {
  if (dosim::lstm_cuda_devices() == 0) {
    state.SkipWithError(dosim::lstm_cuda_device_name().c_str());
    return;
  }
  dosim::LstmCudaKernel kernel(weights_for(input, hidden), batch);
  const std::vector<float>& x = inputs(static_cast<std::size_t>(steps) * input * batch);
  std::vector<float> forecast(x.size());
  kernel.run(x, steps, forecast);  // loads the module, sizes the device buffers
  for (auto _ : state) {
    kernel.run(x, steps, forecast);
    if (kernel_only) state.SetIterationTime(kernel.last_kernel_seconds());
  }
  state.SetItemsProcessed(state.iterations() * steps * static_cast<std::int64_t>(batch));
  state.SetLabel(dosim::lstm_cuda_device_name());
}

void BM_LstmCudaSequence(benchmark::State& state) {
  run_cuda(state, 8, static_cast<int>(state.range(0)), static_cast<std::size_t>(state.range(1)), 60,
           false);
}

void BM_LstmCudaKernel(benchmark::State& state) {
  run_cuda(state, 8, static_cast<int>(state.range(0)), static_cast<std::size_t>(state.range(1)), 60,
           true);
}

void BM_LstmCudaStreaming(benchmark::State& state) {
  run_cuda(state, 4, 64, static_cast<std::size_t>(state.range(0)), 1, false);
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

int main(int argc, char** argv) {
  if (dosim::lstm_cuda_built()) {
    // hidden x batch: the CPU's batch, and one that fills an H100/H200 (2,048 blocks of 64).
    const std::vector<std::vector<std::int64_t>> shapes = {{32, 64, 128}, {1024, 131072}};
    benchmark::RegisterBenchmark("BM_LstmCudaSequence", BM_LstmCudaSequence)
        ->ArgsProduct(shapes)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark("BM_LstmCudaKernel", BM_LstmCudaKernel)
        ->ArgsProduct(shapes)
        ->Unit(benchmark::kMillisecond)
        ->UseManualTime();
    benchmark::RegisterBenchmark("BM_LstmCudaStreaming", BM_LstmCudaStreaming)
        ->Arg(10000)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// MadKernel throughput: windows 32/64/128 x 1,000 and 100,000 series, per SIMD path.
// items_processed counts series-ticks; ns per series-tick = 1e9 / items_per_second.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "detectors/mad_kernel.h"

namespace {

void BM_MadStep(benchmark::State& state, dosim::SimdPath path) {
  const auto series = static_cast<std::size_t>(state.range(0));
  const int window = static_cast<int>(state.range(1));
  const dosim::SimdPath resolved = dosim::MadKernel::resolve(path);
  if (resolved != path) {
    state.SkipWithError("path not available on this CPU");
    return;
  }
  dosim::MadKernel kernel(series, window, path);
  constexpr int kTicksOfData = 16;
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(100.0f, 15.0f);
  std::vector<std::vector<float>> ticks(kTicksOfData, std::vector<float>(series));
  for (auto& tick : ticks)
    for (float& v : tick) v = normal(rng);
  std::vector<float> score(series);
  for (int warm = 0; warm < window; ++warm) kernel.step(ticks[warm % kTicksOfData], score);
  std::size_t tick = 0;
  for (auto _ : state) {
    kernel.step(ticks[tick++ % kTicksOfData], score);
    benchmark::DoNotOptimize(score.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(series));
}

void sizes(benchmark::internal::Benchmark* bench) {
  for (std::int64_t series : {1000, 100000})
    for (std::int64_t window : {32, 64, 128}) bench->Args({series, window});
  bench->ArgNames({"series", "window"});
}

BENCHMARK_CAPTURE(BM_MadStep, scalar, dosim::SimdPath::kScalar)->Apply(sizes);
BENCHMARK_CAPTURE(BM_MadStep, avx2, dosim::SimdPath::kAvx2)->Apply(sizes);
BENCHMARK_CAPTURE(BM_MadStep, avx512, dosim::SimdPath::kAvx512)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();

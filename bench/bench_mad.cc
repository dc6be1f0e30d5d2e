// MadKernel throughput: windows 32/64/128 x 1,000 and 100,000 series, per SIMD path.
// items_processed counts series-ticks; ns per series-tick = 1e9 / items_per_second.
//
// Paths: scalar, avx2 and avx512 force that path (skipped when the CPU lacks it);
// dispatched is SimdPath::kAuto, what MadDetector uses: the best path, or the one
// DOSIM_SIMD=scalar|avx2|avx512 names (the label says which ran).
//
// Input: tick t of series i reads pool[offset(t) + i] from a pool of normal variates with
// 65,536 more values than series; offset(t) = 997 * t mod 65,536 (period 65,536 ticks). The
// value leaving the window is therefore never the one entering it, unlike a short cycle of
// ticks whose length divides the window, which leaves every window unchanged after warm-up.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "detectors/mad_kernel.h"

namespace {

constexpr std::size_t kPoolExtra = 65536;
constexpr std::size_t kOffsetStep = 997;  // odd, so offsets visit all of [0, kPoolExtra)

void BM_MadStep(benchmark::State& state, dosim::SimdPath path) {
  const auto series = static_cast<std::size_t>(state.range(0));
  const int window = static_cast<int>(state.range(1));
  const dosim::SimdPath resolved = dosim::MadKernel::resolve(path);
  if (path != dosim::SimdPath::kAuto && resolved != path) {
    state.SkipWithError("path not available on this CPU");
    return;
  }
  dosim::MadKernel kernel(series, window, path);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(100.0f, 15.0f);
  std::vector<float> pool(series + kPoolExtra);
  for (float& v : pool) v = normal(rng);
  std::vector<float> score(series);
  std::size_t tick = 0;
  const auto input = [&] {
    const std::size_t offset = (tick++ * kOffsetStep) % kPoolExtra;
    return std::span<const float>(pool.data() + offset, series);
  };
  for (int warm = 0; warm < window; ++warm) kernel.step(input(), score);
  for (auto _ : state) {
    kernel.step(input(), score);
    benchmark::DoNotOptimize(score.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(series));
  state.SetLabel(std::string(dosim::MadKernel::path_name(kernel.path())));
}

void sizes(benchmark::internal::Benchmark* bench) {
  for (std::int64_t series : {1000, 100000})
    for (std::int64_t window : {32, 64, 128}) bench->Args({series, window});
  bench->ArgNames({"series", "window"});
}

BENCHMARK_CAPTURE(BM_MadStep, scalar, dosim::SimdPath::kScalar)->Apply(sizes);
BENCHMARK_CAPTURE(BM_MadStep, avx2, dosim::SimdPath::kAvx2)->Apply(sizes);
BENCHMARK_CAPTURE(BM_MadStep, avx512, dosim::SimdPath::kAvx512)->Apply(sizes);
BENCHMARK_CAPTURE(BM_MadStep, dispatched, dosim::SimdPath::kAuto)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();

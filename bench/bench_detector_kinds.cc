// Cost of a detector kind per series-tick through the Detector interface (what the runner
// calls once per tick), 1,000 series: threshold, mad, ewma and surprise with their defaults,
// and surprise without its rest. items_processed counts series-ticks; ns per series-tick =
// 1e9 / items_per_second. Input as bench_mad.cc: tick t of series i reads pool[offset(t) + i]
// from normal variates, offset(t) = 997 t mod 65,536, so windows and phases keep changing.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "dosim/detectors/detector.h"

namespace {

constexpr std::size_t kSeries = 1000;
constexpr std::size_t kPoolExtra = 65536;
constexpr std::size_t kOffsetStep = 997;

void BM_DetectorKind(benchmark::State& state, const std::string& kind,
                     std::vector<std::pair<std::string, double>> params) {
  dosim::DetectorSpec spec;
  spec.name = kind;
  spec.kind = kind;
  spec.params = std::move(params);
  auto detector = dosim::make_detector(spec, kSeries, "bench", dosim::kSecond);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(100.0f, 15.0f);
  std::vector<float> pool(kSeries + kPoolExtra);
  for (float& v : pool) v = normal(rng);
  std::vector<float> scores(kSeries);
  std::size_t tick = 0;
  const auto input = [&] {
    const std::size_t offset = (tick++ * kOffsetStep) % kPoolExtra;
    return std::span<const float>(pool.data() + offset, kSeries);
  };
  for (int warm = 0; warm < 300; ++warm) detector->step(input(), scores);
  for (auto _ : state) {
    detector->step(input(), scores);
    benchmark::DoNotOptimize(scores.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kSeries));
}

BENCHMARK_CAPTURE(BM_DetectorKind, threshold, std::string("threshold"), {{"above", 130.0}});
BENCHMARK_CAPTURE(BM_DetectorKind, mad, std::string("mad"), {});
BENCHMARK_CAPTURE(BM_DetectorKind, ewma, std::string("ewma"), {});
BENCHMARK_CAPTURE(BM_DetectorKind, surprise, std::string("surprise"), {});
BENCHMARK_CAPTURE(BM_DetectorKind, surprise_rest0, std::string("surprise"), {{"rest", 0.0}});

}  // namespace

BENCHMARK_MAIN();

// Cost of the fluid model's measurement noise (engine/measurement.h), per series per tick:
// a Poisson count, a binomial share, the sampled p50/p95/p99 of n latencies for n = 8
// (sorted), 100 and 10,000, and a whole family (MeasurementBatch: 1,000 series of about 100
// requests each, as bench_world's), and the tabulated inverse normal CDF behind the draws.
// items_per_second is series (or draws) per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/measurement.h"

namespace {

const dosim::RandomStream& stream() {
  static const dosim::RandomStream instance(42, dosim::entity_id("checkout"),
                                            dosim::Purpose::kLatencyNoise);
  return instance;
}

void BM_Poisson(benchmark::State& state) {
  const double mean = static_cast<double>(state.range(0));
  std::int64_t tick = 0;
  for (auto _ : state) {
    dosim::MeasurementDraws draws(stream(), tick++, 0);
    benchmark::DoNotOptimize(dosim::sample_poisson(draws.next(), mean));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Poisson)->Arg(5)->Arg(500);

void BM_Percentiles(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const dosim::SampledPercentiles exact{0.020, 0.060, 0.090};
  std::int64_t tick = 0;
  for (auto _ : state) {
    dosim::MeasurementDraws draws(stream(), tick++, 0);
    benchmark::DoNotOptimize(dosim::sample_percentiles(draws, n, exact));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Percentiles)->Arg(8)->Arg(100)->Arg(10000);

void BM_Batch(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::vector<dosim::RandomStream> streams;
  dosim::MeasurementBatch batch;
  batch.resize(size);
  for (std::size_t i = 0; i < size; ++i) {
    streams.emplace_back(42, dosim::entity_id("svc-" + std::to_string(i)),
                         dosim::Purpose::kLatencyNoise);
    batch.expected[i] = 60.0 + static_cast<double>(i % 80);
    batch.fast[i] = 0;
    batch.slow[i] = i % 10 == 0 ? 0.01 : 0.0;
    batch.exact[i] = {0.020, 0.060, 0.090};
    batch.sigma[i] = i % 2 == 0 ? 0.6 : -1.0;
    batch.mean[i] = 0.025;
    batch.var[i] = 0.0004;
  }
  std::int64_t tick = 0;
  for (auto _ : state) {
    batch.measure(streams, tick++, 0);
    benchmark::DoNotOptimize(batch.percentiles.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(size));
}
BENCHMARK(BM_Batch)->Arg(1000);

void BM_TabulatedQuantile(benchmark::State& state) {
  double u = 0.37;
  for (auto _ : state) {
    u = u * 1.0000001 + 1e-9;
    benchmark::DoNotOptimize(dosim::tabulated_normal_quantile(u));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TabulatedQuantile);

}  // namespace

BENCHMARK_MAIN();

// World model throughput: series-updates per second for systems of 10, 1,000 and 10,000
// services. One tick updates 10 series per service and 5 per edge; the counter
// `series_updates` reports their rate (target: >= 50 M/s on one core).
#include <benchmark/benchmark.h>

#include "bench/synthetic_system.h"
#include "engine/world.h"

namespace {

void world_tick(benchmark::State& state, bool noise, int threads = 1) {
  const int services = static_cast<int>(state.range(0));
  dosim::Scenario scenario = dosim::bench::synthetic_system(services, dosim::kWeek, dosim::kMinute);
  scenario.measurement_noise = noise;
  dosim::World world(scenario, 1);
  world.set_threads(threads);
  std::int64_t tick = 0;
  for (auto _ : state) {
    world.step(tick++);
    benchmark::DoNotOptimize(world.frame().service_values.data());
  }
  const double series_per_tick =
      static_cast<double>(world.frame().service_values.size() + world.frame().edge_values.size());
  state.counters["series_updates"] = benchmark::Counter(
      series_per_tick * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["services"] = services;
  state.counters["edges"] = static_cast<double>(scenario.dependencies.size());
}
void BM_WorldTick(benchmark::State& state) { world_tick(state, true); }
// The same with `measurement_noise: false`: the model alone, without measuring its telemetry
// on a tick's finite sample of requests (the split of the tick time in bench/RESULTS.md).
void BM_WorldTickMeanField(benchmark::State& state) { world_tick(state, false); }
// The same on 2 threads (World::set_threads; identical frames): wall time per tick.
void BM_WorldTickThreads2(benchmark::State& state) { world_tick(state, true, 2); }
BENCHMARK(BM_WorldTick)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WorldTickMeanField)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WorldTickThreads2)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

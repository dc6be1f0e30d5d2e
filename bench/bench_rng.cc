// Cost of one draw from a counter-based RandomStream (Philox4x32-10): raw 64-bit blocks,
// uniform, normal (Box-Muller, and the cheap Irwin-Hall fast_normal) and exponential
// variates, and building a stream (done once per entity and purpose). items_per_second is
// draws per second on one core.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "engine/rng.h"

namespace {

const dosim::RandomStream& stream() {
  static const dosim::RandomStream instance(42, dosim::entity_id("checkout"),
                                            dosim::Purpose::kLatencyNoise);
  return instance;
}

void BM_Bits(benchmark::State& state) {
  std::uint64_t index = 0;
  for (auto _ : state) benchmark::DoNotOptimize(stream().bits(index++));
  state.SetItemsProcessed(state.iterations());
}

void BM_Uniform(benchmark::State& state) {
  std::uint64_t index = 0;
  for (auto _ : state) benchmark::DoNotOptimize(stream().uniform(index++));
  state.SetItemsProcessed(state.iterations());
}

void BM_Normal(benchmark::State& state) {
  std::uint64_t index = 0;
  for (auto _ : state) benchmark::DoNotOptimize(stream().normal(index++));
  state.SetItemsProcessed(state.iterations());
}

void BM_FastNormal(benchmark::State& state) {
  std::uint64_t index = 0;
  for (auto _ : state) benchmark::DoNotOptimize(stream().fast_normal(index++));
  state.SetItemsProcessed(state.iterations());
}

void BM_Exponential(benchmark::State& state) {
  std::uint64_t index = 0;
  for (auto _ : state) benchmark::DoNotOptimize(stream().exponential(index++, 2.0));
  state.SetItemsProcessed(state.iterations());
}

void BM_MakeStream(benchmark::State& state) {
  std::uint64_t seed = 0;
  for (auto _ : state) {
    const dosim::RandomStream fresh(seed++, dosim::entity_id("checkout"),
                                    dosim::Purpose::kLatencyNoise);
    benchmark::DoNotOptimize(fresh);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Bits);
BENCHMARK(BM_Uniform);
BENCHMARK(BM_Normal);
BENCHMARK(BM_FastNormal);
BENCHMARK(BM_Exponential);
BENCHMARK(BM_MakeStream);

}  // namespace

BENCHMARK_MAIN();

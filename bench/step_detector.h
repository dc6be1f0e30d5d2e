// Stepping one detector in a Google Benchmark loop, as a run steps it (Detector::step on a
// span of values), shared by bench_lua and bench_python. items_processed counts series-ticks.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "dosim/detectors/detector.h"

namespace dosim::bench {

// `count` values drawn from N(100, 15^2) with a fixed seed.
inline std::vector<float> detector_inputs(std::size_t count) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(100.0f, 15.0f);
  std::vector<float> pool(count);
  for (float& v : pool) v = normal(rng);
  return pool;
}

// Steps `detector` over `series` series; the values cycle through a pool.
inline void step_detector(benchmark::State& state, Detector& detector, std::size_t series) {
  const std::vector<float> pool = detector_inputs(series + 4096);
  std::vector<float> scores(series);
  std::size_t offset = 0;
  for (auto _ : state) {
    detector.step(std::span<const float>(pool.data() + offset, series), scores);
    benchmark::DoNotOptimize(scores.data());
    offset = (offset + 97) % 4096;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(series));
}

}  // namespace dosim::bench

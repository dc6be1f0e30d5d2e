// Request level throughput: request-hops per second (a hop = one request served by one
// service) on a 10-service chain at 60 % utilisation, one core. The chain's scenario is
// bench/peers/simpy_chain.py's model (bench/run_request_comparison.sh runs both). The
// counter `hops` is the rate; `in_flight` the requests in flight at the end, which bounds
// the memory (BM_RequestHorizon runs 1 and 10 simulated minutes: the same peak).
#include <benchmark/benchmark.h>

#include <string>

#include "dosim/engine/scenario_loader.h"
#include "engine/world.h"

namespace {

// s0 -> s1 -> ... -> s9, one call each; 1,000 requests/s enter s0; every service has 2
// replicas of 4 workers and 60 % utilisation (capacity 1,667 requests/s).
std::string chain_yaml(int minutes) {
  std::string yaml = "name: chain\nduration: " + std::to_string(minutes) +
                     "m\nmode: requests\ndetectors: []\nservices:\n";
  for (int s = 0; s < 10; ++s)
    yaml += "  - {name: s" + std::to_string(s) +
            ", replicas: 2, workers: 4, capacity_rps: 833.333, base_latency: 4.8ms}\n";
  yaml += "dependencies:\n";
  for (int s = 0; s + 1 < 10; ++s)
    yaml += "  - {caller: s" + std::to_string(s) + ", callee: s" + std::to_string(s + 1) + "}\n";
  yaml += "traffic:\n  - {name: t, entry: s0, base_rps: 1000, noise: 0}\n";
  return yaml;
}

void BM_RequestChain(benchmark::State& state) {
  const dosim::Scenario scenario = dosim::parse_scenario(chain_yaml(60), "chain.yaml");
  dosim::World world(scenario, 1);
  std::int64_t tick = 0;
  for (int warm = 0; warm < 10; ++warm) world.step(tick++);
  const std::uint64_t before = world.requests()->hops_served();
  for (auto _ : state) {
    world.step(tick++);
    benchmark::DoNotOptimize(world.frame().service_values.data());
  }
  state.counters["hops"] = benchmark::Counter(
      static_cast<double>(world.requests()->hops_served() - before), benchmark::Counter::kIsRate);
  state.counters["in_flight"] = static_cast<double>(world.requests()->in_flight());
}
BENCHMARK(BM_RequestChain)->Unit(benchmark::kMillisecond)->Iterations(600);

// The whole horizon: memory follows the requests in flight, not the simulated time.
void BM_RequestHorizon(benchmark::State& state) {
  const dosim::Scenario scenario =
      dosim::parse_scenario(chain_yaml(static_cast<int>(state.range(0))), "chain.yaml");
  std::uint64_t hops = 0;
  std::size_t in_flight = 0;
  for (auto _ : state) {
    dosim::World world(scenario, 1);
    for (std::int64_t tick = 0; tick < scenario.tick_count(); ++tick) {
      world.step(tick);
      in_flight = std::max(in_flight, world.requests()->in_flight());
    }
    hops += world.requests()->hops_served();
  }
  state.counters["hops"] = benchmark::Counter(static_cast<double>(hops), benchmark::Counter::kIsRate);
  state.counters["peak_in_flight"] = static_cast<double>(in_flight);
}
BENCHMARK(BM_RequestHorizon)->Arg(1)->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

// End to end: simulate a synthetic system and write its HDF5 trace, as `dosim run` does.
// BM_EndToEnd/<services>/<days>: 1 s ticks, a row recorded every 60 s. Reports simulated
// seconds per wall second and the process's peak resident memory (VmHWM); run each
// horizon in its own process (bench/run_world_e2e.sh) so the peaks are comparable:
// memory must stay flat as the horizon grows.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "dosim/analysis/trace_writer.h"
#include "bench/synthetic_system.h"
#include "dosim/engine/simulation.h"

namespace {

double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0.0;
}

void BM_EndToEnd(benchmark::State& state) {
  const int services = static_cast<int>(state.range(0));
  const dosim::SimTime horizon = state.range(1) * dosim::kDay;
  const dosim::Scenario scenario =
      dosim::bench::synthetic_system(services, horizon, dosim::kMinute);
  const std::string path =
      (std::filesystem::temp_directory_path() / "dosim_bench_end_to_end.h5").string();
  std::int64_t rows = 0;
  for (auto _ : state) {
    dosim::TraceWriter writer(path, scenario, 1);
    dosim::Simulation simulation(scenario, 1);
    simulation.add_sink(&writer);
    const dosim::RunResult result = simulation.run();
    writer.finish(simulation.incidents(), result.completed);
    rows = writer.rows_written();
  }
  state.counters["simulated_s_per_s"] = benchmark::Counter(
      dosim::to_seconds(horizon) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["trace_MiB"] =
      static_cast<double>(std::filesystem::file_size(path)) / (1024.0 * 1024.0);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  std::filesystem::remove(path);
}
BENCHMARK(BM_EndToEnd)
    ->Args({1000, 1})
    ->Args({1000, 7})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

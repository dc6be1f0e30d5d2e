// The cost of Lua in a run (docs/lua-api.md): a detector written in Lua (sim.detector) per
// series-tick, beside the built-in mad kind on the same series; and a script's "tick" hook
// per tick. items_processed counts series-ticks (detectors) or ticks (hook).
//
// The Lua detector is an EWMA z-score written the obvious way (a table of state per series),
// the kind of prototype the API is for.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/lua_ewma.h"
#include "bench/step_detector.h"
#include "dosim/detectors/detector.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "scripting/script_host.h"

namespace {

const char* const kScenario = R"(
name: bench-lua
duration: 1h
services: [{name: a}]
)";

const std::string kScript = std::string(dosim::bench::kLuaEwmaDetector) + R"(local ticks = 0
sim.on("tick", function(t) ticks = ticks + 1 end)
)";

std::string write_script() {
  const auto path = std::filesystem::temp_directory_path() / "dosim-bench-lua.lua";
  std::ofstream(path) << kScript;
  return path.string();
}

using dosim::bench::step_detector;

void BM_LuaDetector(benchmark::State& state) {
  const auto series = static_cast<std::size_t>(state.range(0));
  const dosim::Scenario scenario = dosim::parse_scenario(kScenario, "bench.yaml");
  dosim::Simulation simulation(scenario, 1);
  dosim::ScriptOptions options;
  options.path = write_script();
  dosim::ScriptHost host(simulation, options, 1);
  host.start();
  dosim::DetectorSpec spec;
  spec.name = spec.kind = "lua-ewma";
  auto detector = host.detector_factory()(spec, series);
  step_detector(state, *detector, series);
}

void BM_BuiltInDetector(benchmark::State& state, const char* kind) {
  const auto series = static_cast<std::size_t>(state.range(0));
  dosim::DetectorSpec spec;
  spec.name = spec.kind = kind;
  auto detector = dosim::make_detector(spec, series, "bench.yaml");
  step_detector(state, *detector, series);
}

// A whole run of one service for an hour with the script's tick hook, per tick.
void BM_TickHook(benchmark::State& state) {
  const dosim::Scenario scenario = dosim::parse_scenario(kScenario, "bench.yaml");
  const std::string script = write_script();
  const bool hook = state.range(0) != 0;
  std::int64_t ticks = 0;
  for (auto _ : state) {
    dosim::Simulation simulation(scenario, 1);
    dosim::ScriptOptions options;
    options.path = script;
    dosim::ScriptHost host(simulation, options, 1);
    if (hook) {
      host.start();
      simulation.add_sink(&host);
    }
    ticks += simulation.run().ticks;
  }
  state.SetItemsProcessed(ticks);
  state.SetLabel(hook ? "with a tick hook" : "without");
}

}  // namespace

BENCHMARK(BM_LuaDetector)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_BuiltInDetector, ewma, "ewma")->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_BuiltInDetector, mad, "mad")->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_TickHook)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();

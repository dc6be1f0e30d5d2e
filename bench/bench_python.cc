// The cost of a detector written in Python (kind python, docs/python.md) per series-tick,
// beside the same EWMA z-score written in Lua (sim.detector) and the built-in ewma kind.
// items_processed counts series-ticks; every detector is stepped directly (Detector::step
// on a span of values), as a run steps it.
//
// Two Python classes, made through make_detector with the embedded interpreter
// (python/embedded.h): "Null" returns a preallocated array of zeros, so its cost is the
// C++ <-> Python crossing alone (GIL, the zero-copy view, the call, the checks and the copy
// of the scores back); "Ewma" is the EWMA z-score in a few numpy operations per tick. Before
// timing, a third ("Probe") checks that step() sees the values in place, not a copy.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/lua_ewma.h"
#include "bench/step_detector.h"
#include "dosim/detectors/detector.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "python/embedded.h"
#include "scripting/script_host.h"

namespace {

const char* const kPythonModule = R"(
import numpy as np


class Null:
    """The crossing alone: one preallocated array of zeros, returned every tick."""

    def __init__(self, series):
        self.scores = np.zeros(len(series))

    def step(self, t_ns, values):
        return self.scores


class Probe:
    """Raises unless `values` lies at `address`: the runner's buffer, not a copy."""

    def __init__(self, series, address):
        self.address = address
        self.scores = np.zeros(len(series))

    def step(self, t_ns, values):
        if values.__array_interface__["data"][0] != self.address:
            raise ValueError("values is a copy of the runner's buffer")
        return self.scores


class Ewma:
    """EWMA z-score, vectorized: |x - mean| / sd, then mean and variance learn x."""

    def __init__(self, series, alpha=0.05):
        n = len(series)
        self.alpha = alpha
        self.mean = np.zeros(n)
        self.var = np.zeros(n)
        self.sd = np.zeros(n)
        self.seen = False

    def step(self, t_ns, values):
        if not self.seen:
            self.mean[:] = values
            self.seen = True
        d = values - self.mean  # float64: the state's type
        np.sqrt(self.var, out=self.sd)
        scores = np.zeros_like(d)
        np.divide(np.abs(d), self.sd, out=scores, where=self.sd > 0)
        self.mean += self.alpha * d
        self.var += self.alpha * d * d
        self.var *= 1 - self.alpha
        return scores
)";

const char* const kScenario = R"(
name: bench-python
duration: 1h
services: [{name: a}]
)";

std::string write_file(const char* name, const char* text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

using dosim::bench::step_detector;

dosim::DetectorSpec python_spec(const char* class_name) {
  dosim::DetectorSpec spec;
  spec.name = std::string("python-") + class_name;
  spec.kind = "python";
  spec.module = write_file("dosim-bench-python.py", kPythonModule);
  spec.class_name = class_name;
  return spec;
}

void BM_PythonDetector(benchmark::State& state, const char* class_name) {
  const auto series = static_cast<std::size_t>(state.range(0));
  auto detector = dosim::make_detector(python_spec(class_name), series, "bench.yaml");
  step_detector(state, *detector, series);
}

// Throws ScriptError unless step() sees the caller's values in place (what the numbers
// above assume: no copy on the way in).
void check_zero_copy() {
  const std::vector<float> values = dosim::bench::detector_inputs(1000);
  std::vector<float> scores(values.size());
  dosim::DetectorSpec spec = python_spec("Probe");
  spec.params.emplace_back(
      "address",
      static_cast<double>(reinterpret_cast<std::uintptr_t>(values.data())));  // < 2^53: exact
  auto detector = dosim::make_detector(spec, values.size(), "bench.yaml");
  detector->step(values, scores);
}

void BM_LuaDetector(benchmark::State& state) {
  const auto series = static_cast<std::size_t>(state.range(0));
  const dosim::Scenario scenario = dosim::parse_scenario(kScenario, "bench.yaml");
  dosim::Simulation simulation(scenario, 1);
  dosim::ScriptOptions options;
  options.path = write_file("dosim-bench-python.lua", dosim::bench::kLuaEwmaDetector);
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

}  // namespace

BENCHMARK_CAPTURE(BM_PythonDetector, null, "Null")->Arg(10)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_PythonDetector, numpy_ewma, "Ewma")->Arg(10)->Arg(1000)->Arg(10000);
BENCHMARK(BM_LuaDetector)->Arg(10)->Arg(1000)->Arg(10000);
BENCHMARK_CAPTURE(BM_BuiltInDetector, ewma, "ewma")->Arg(10)->Arg(1000)->Arg(10000);

int main(int argc, char** argv) {
  dosim::python::enable_embedded_python();  // kind python; the interpreter starts on first use
  check_zero_copy();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

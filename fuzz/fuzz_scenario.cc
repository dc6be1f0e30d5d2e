// Scenario YAML from the bytes: parse_scenario must throw InputError or return a valid
// Scenario, never crash. A scenario that loads and reads no other file (no script, replay,
// model or Python module) is also planned (RunPlan: detectors, incident rules) and simulated
// for a few ticks, so the values the loader lets through reach the world model.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dosim/engine/scenario_loader.h"
#include "dosim/error.h"
#include "dosim/run.h"

namespace {

bool reads_other_files(const dosim::Scenario& scenario) {
  if (!scenario.script.empty() || !scenario.replay.empty()) return true;
  for (const dosim::DetectorSpec& detector : scenario.detectors) {
    if (!detector.model.empty() || !detector.module.empty()) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    dosim::Scenario scenario = dosim::parse_scenario(text, "fuzz.yaml");
    if (reads_other_files(scenario)) return 0;
    dosim::RunOptions options;
    options.trace_path = "";
    dosim::RunPlan plan = dosim::RunPlan::from_scenario(std::move(scenario), options);
    dosim::Run run(plan);
    run.step(20);
  } catch (const dosim::Error&) {
  }
  return 0;
}

// Scenario YAML from the bytes: parse_scenario must throw InputError or return a valid
// Scenario, never crash. A scenario that loads and reads no other file (no script, replay,
// model or Python module) is also planned (RunPlan: detectors, incident rules) and simulated
// for a few ticks, so the values the loader lets through reach the world model (at request
// level, only when a tick holds few requests).
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
    // At request level, twenty ticks may hold up to 2e8 requests within the run's limits:
    // planned (the limits are checked there), simulated only when small.
    const bool small = scenario.mode != dosim::WorldMode::kRequests ||
                       scenario.request_hop_bound(nullptr) * dosim::to_seconds(scenario.tick) <=
                           1e4;
    dosim::RunPlan plan = dosim::RunPlan::from_scenario(std::move(scenario), options);
    if (!small) return 0;
    dosim::Run run(plan);
    run.step(20);
  } catch (const dosim::Error&) {
  }
  return 0;
}

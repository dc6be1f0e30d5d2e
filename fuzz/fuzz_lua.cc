// A Lua chaos script from the bytes, run against fuzz/lua-scenario.yaml (services the bundled
// scripts name, 120 ticks) with a small instruction budget and memory cap: planning and the
// run must end or throw a dosim::Error (ScriptError for the script's own failures), never
// crash, whatever the script asks of the `sim` API (docs/lua-api.md).
#include <cstddef>
#include <cstdint>
#include <string>

#include "dosim/engine/scenario_loader.h"
#include "dosim/error.h"
#include "dosim/run.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const dosim::Scenario scenario =
      dosim::load_scenario_file(DOSIM_SOURCE_DIR "/fuzz/lua-scenario.yaml");
  static const std::string path = dosim::fuzz::scratch_path(".lua");
  dosim::fuzz::write_file(path, data, size);
  dosim::RunOptions options;
  options.script_path = path;
  options.lua_instructions = 200'000;
  options.lua_memory_mib = 16;
  options.trace_path = "";
  try {
    dosim::RunPlan plan = dosim::RunPlan::from_scenario(scenario, options);
    dosim::Run run(plan);
    (void)run.run();
  } catch (const dosim::Error&) {
  }
  return 0;
}

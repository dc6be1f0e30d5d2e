// `dosim validate`: every problem `dosim run` would report before simulating (RunPlan::check),
// and the warnings, each at its position.
#include <iostream>

#include "commands.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/run.h"

namespace dosim::cli {

void print_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::size_t errors = 0, warnings = 0;
  for (const Diagnostic& d : diagnostics) {
    (d.warning ? warnings : errors) += d.problems;
    std::cerr << d.format() << '\n';
  }
  std::cerr << errors << (errors == 1 ? " problem" : " problems");
  if (warnings > 0) std::cerr << ", " << warnings << (warnings == 1 ? " warning" : " warnings");
  std::cerr << '\n';
}

void print_error(const std::exception& error) {
  if (const auto* diagnosed = dynamic_cast<const Error*>(&error))
    print_diagnostics(diagnosed->diagnostics());
  else
    std::cerr << "dosim: " << error.what() << '\n';
}

void print_warnings(const std::vector<Diagnostic>& warnings) {
  for (const Diagnostic& d : warnings) std::cerr << d.format() << '\n';
}

int validate_command(const ValidateOptions& options) {
  RunOptions run_options;
  run_options.script_path = options.script_path;
  run_options.lua_instructions = options.lua_instructions;
  run_options.lua_memory_mib = options.lua_memory_mib;
  run_options.strict = options.strict;  // a script's call that would warn is its error
  if (!options.mode.empty())
    run_options.mode = options.mode == "requests" ? WorldMode::kRequests : WorldMode::kFluid;
  std::vector<Diagnostic> found = RunPlan::check(options.scenario_path, run_options);
  std::size_t errors = 0, warnings = 0;
  for (Diagnostic& d : found) {
    if (d.warning && options.strict) d.warning = false;
    (d.warning ? warnings : errors) += 1;
  }
  if (errors > 0) {
    print_diagnostics(found);
    return kExitBadInput;
  }
  print_warnings(found);
  // Valid: say what was checked.
  const Scenario scenario = load_scenario_file(options.scenario_path);
  const auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::cout << options.scenario_path << ": ok ("
            << count(scenario.services.size(), "service", "services") << ", "
            << count(scenario.dependencies.size(), "dependency", "dependencies") << ", "
            << count(scenario.faults.size(), "fault", "faults")
            << (warnings > 0 ? ", " + count(warnings, "warning", "warnings") : "") << ")\n";
  const std::string script = options.script_path.empty()
                                 ? scenario_script_path(options.scenario_path, scenario.script)
                                 : options.script_path;
  if (!script.empty()) std::cout << script << ": ok (compiles and starts)\n";
  return kExitOk;
}

}  // namespace dosim::cli

// `dosim validate`: the scenario, and the syntax of the Lua script it names, if any.
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "dosim/error.h"
#include "dosim/engine/scenario_loader.h"
#include "scripting/lua_sandbox.h"

namespace dosim::cli {

void print_input_error(const std::exception& error) {
  if (const auto* input = dynamic_cast<const InputError*>(&error)) {
    for (const Diagnostic& d : input->diagnostics()) std::cerr << d.format() << '\n';
    std::cerr << input->diagnostics().size()
              << (input->diagnostics().size() == 1 ? " problem\n" : " problems\n");
  } else {
    std::cerr << "dosim: " << error.what() << '\n';
  }
}

std::string scenario_script_path(const std::string& scenario_path, const std::string& script) {
  if (script.empty()) return "";
  const std::filesystem::path path(script);
  if (path.is_absolute()) return path.string();
  return (std::filesystem::path(scenario_path).parent_path() / path).string();
}

int validate_command(const std::string& scenario_path) {
  try {
    const Scenario scenario = load_scenario_file(scenario_path);
    std::cout << scenario_path << ": ok (" << scenario.services.size() << " services, "
              << scenario.dependencies.size() << " dependencies, " << scenario.faults.size()
              << " faults)\n";
    if (const std::string script = scenario_script_path(scenario_path, scenario.script);
        !script.empty()) {
      try {
        LuaSandbox sandbox(scenario.seed, {});
        sandbox.load_file(script);  // compiles it: syntax errors, bytecode, unreadable file
      } catch (const ScriptError& error) {
        std::cerr << error.what() << "\n";
        return kExitBadInput;
      }
      std::cout << script << ": ok (Lua syntax)\n";
    }
    return kExitOk;
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  }
}

}  // namespace dosim::cli

#include <iostream>

#include "commands.h"
#include "engine/diagnostics.h"
#include "engine/scenario_loader.h"

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

int validate_command(const std::string& scenario_path) {
  try {
    const Scenario scenario = load_scenario_file(scenario_path);
    std::cout << scenario_path << ": ok (" << scenario.services.size() << " services, "
              << scenario.dependencies.size() << " dependencies, " << scenario.faults.size()
              << " faults)\n";
    return kExitOk;
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  }
}

}  // namespace dosim::cli

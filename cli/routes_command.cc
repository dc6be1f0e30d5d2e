// dosim routes CONFIG [LABEL=VALUE ...]: the receivers an alert with these labels reaches
// through an Alertmanager configuration, as dosim routes a run's alerts, printed as
// `amtool config routes test` prints them (comma-separated, in route order). CONFIG is an
// alertmanager.yml file, or with --scenario a scenario whose `alertmanager:` is used.
#include <iostream>

#include "commands.h"
#include "detectors/alertmanager.h"
#include "dosim/engine/scenario_loader.h"

namespace dosim::cli {

int routes_command(const RoutesOptions& options) {
  // The configuration's problems and every bad label, said at once.
  AlertmanagerSpec spec;
  std::vector<Diagnostic> problems;
  try {
    spec = options.scenario ? load_scenario_file(options.config_path).alertmanager
                            : load_alertmanager_file(options.config_path);
  } catch (const Error& error) {
    problems = error.diagnostics();
  }
  AlertLabels labels;
  for (const std::string& pair : options.labels) {
    const std::size_t equal = pair.find('=');
    if (equal == std::string::npos || equal == 0)
      problems.push_back({"command line", 0, 0, "a label is NAME=VALUE, got '" + pair + "'"});
    else {
      // A label given twice keeps its last value, as amtool's does.
      const std::string name = pair.substr(0, equal);
      std::erase_if(labels, [&](const auto& label) { return label.first == name; });
      labels.emplace_back(name, pair.substr(equal + 1));
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  const std::vector<std::string> receivers = receivers_for(spec, labels);
  for (std::size_t i = 0; i < receivers.size(); ++i)
    std::cout << (i == 0 ? "" : ",") << receivers[i];
  std::cout << "\n";
  return kExitOk;
}

}  // namespace dosim::cli

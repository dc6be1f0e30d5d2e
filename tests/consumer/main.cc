// Runs a scenario with the mad detector through the installed dosim library and prints one
// line per score row: its name, a tab, its F1.
//   dosim_consumer <prefix>/share/dosim/scenarios/retry-storm.yaml
#include <dosim/error.h>
#include <dosim/run.h>
#include <dosim/version.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: dosim_consumer SCENARIO.yaml\n";
    return 2;
  }
  std::cerr << "dosim " << DOSIM_VERSION << "\n";
  try {
    dosim::RunOptions options;
    options.detectors = std::vector<std::string>{"mad"};
    const dosim::RunPlan plan = dosim::RunPlan::load(argv[1], options);
    dosim::Run run(plan);
    const dosim::RunReport report = run.run();
    for (const auto& [name, scores] : report.scores().rows)
      std::printf("%s\t%.3f\n", name.c_str(), scores.f1);
  } catch (const dosim::Error& error) {
    for (const dosim::Diagnostic& diagnostic : error.diagnostics())
      std::cerr << diagnostic.format() << "\n";
    return 2;
  }
  return 0;
}

// `dosim bench`: detectors x scenarios x seeds. Every (scenario, seed) is one simulation
// that feeds all the requested detectors at once (detectors only watch; they do not change
// the world), scored per detector against the run's ground truth beside a null and a
// random baseline. Runs go to a pool of K threads; each result lands in its own slot, so
// the table, the JSON and the HTML report are identical whatever K. No trace is written.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "analysis/spread.h"
#include "bench_runs.h"
#include "commands.h"
#include "dosim/analysis/bench_report.h"
#include "dosim/analysis/scoring.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/run.h"
#include "util/output_file.h"
#include "util/parallel_map.h"

namespace dosim::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string cell(const Spread& s, const char* format) {
  return s.runs == 0 ? "-" : spread_cell(s.median, s.min, s.max, format);
}

}  // namespace

int bench_command(const BenchOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  if (options.detectors.empty() || options.scenarios.empty() || options.seeds < 1 ||
      options.threads < 1) {
    std::fprintf(stderr,
                 "dosim bench: needs --detectors, --scenarios, --seeds >= 1 and --threads >= 1\n");
    return kExitBadInput;
  }
  if (options.closed_loop) {
    if (!options.report_path.empty() || !options.script_path.empty()) {
      std::fprintf(stderr, "dosim bench: --closed-loop takes neither --report nor --script\n");
      return kExitBadInput;
    }
    return closed_loop_bench(options);
  }
  // One plan per scenario, resolved and checked before any run: the requested detectors
  // instead of the scenario's, no incident rules (they watch the scenario's own detectors).
  std::vector<RunPlan> plans;
  std::vector<Diagnostic> problems;
  for (const std::string& path : options.scenarios) {
    RunOptions run_options;
    run_options.detectors = options.detectors;
    run_options.detectors_source = "--detectors";
    run_options.incident_rules = false;
    run_options.script_path = options.script_path;
    std::string own_script;
    try {
      Scenario scenario = load_scenario_file(path);
      // Without --script, the scenario's own `script:` does not run in a bench.
      if (options.script_path.empty()) own_script = std::exchange(scenario.script, "");
      // Nor do its playbooks: they answer any alert, so one detector's alerts would change
      // the world the others are scored in (--closed-loop gives each detector its own run).
      scenario.playbooks.clear();
      plans.push_back(RunPlan::from_scenario(std::move(scenario), std::move(run_options)));
    } catch (const Error& error) {
      for (Diagnostic d : error.diagnostics()) {
        // A kind its script would have defined (sim.detector), or a detector it defines with
        // a watch named in --detectors: say how to run it.
        if (!own_script.empty() &&
            (d.message.find("unknown detector kind") != std::string::npos ||
             d.message.find("is neither a detector kind nor") != std::string::npos))
          d.message += " (the scenario's script: " + own_script +
                       " does not run in dosim bench: give it with --script to use the Lua "
                       "detectors it defines)";
        problems.push_back(std::move(d));
      }
    }
  }
  // The outputs, checked before any run (neither may name an input or the other output),
  // written at the end; both problems at once.
  std::vector<std::string> taken = options.scenarios;
  if (!options.script_path.empty()) taken.push_back(options.script_path);
  for (const RunPlan& plan : plans)
    for (const auto& [what, input] : plan.inputs()) taken.push_back(input);
  if (!options.out_path.empty()) {
    if (const std::string problem = bench_output_problem(options.out_path, taken); !problem.empty())
      problems.push_back({options.out_path, 0, 0, "cannot write the results: " + problem});
    taken.push_back(options.out_path);
  }
  if (!options.report_path.empty())
    if (const std::string problem = bench_output_problem(options.report_path, taken);
        !problem.empty())
      problems.push_back({options.report_path, 0, 0, "cannot write the report: " + problem});
  if (!problems.empty()) {
    // A problem of --detectors is every scenario's: by_position keeps it once.
    print_error(InputError(by_position(std::move(problems), "")));
    return kExitBadInput;
  }

  // Every (scenario, seed), in a fixed order; seeds are the scenario's seed + 0 .. N-1.
  std::vector<std::pair<std::size_t, std::uint64_t>> jobs;
  for (std::size_t p = 0; p < plans.size(); ++p)
    for (int i = 0; i < options.seeds; ++i)
      jobs.emplace_back(p, plans[p].seed() + static_cast<std::uint64_t>(i));
  std::vector<BenchRun> results(jobs.size());
  const bool show_progress = !options.quiet && isatty(STDERR_FILENO);
  const std::size_t threads = std::min<std::size_t>(options.threads, jobs.size());
  try {
    parallel_for(
        jobs.size(), options.threads,
        [&](std::size_t j) {
          try {
            results[j] = run_bench_once(plans[jobs[j].first], jobs[j].first, jobs[j].second);
          } catch (const std::exception& error) {  // a script failing in this run
            throw InputError(options.scenarios[jobs[j].first],
                             "seed " + std::to_string(jobs[j].second) + ": " + error.what());
          }
        },
        [&](std::size_t finished) {
          if (show_progress) std::fprintf(stderr, "\rbench: %zu/%zu runs", finished, jobs.size());
        });
  } catch (const Error& error) {
    if (show_progress) std::fprintf(stderr, "\r\033[K");
    print_error(error);
    return kExitBadInput;
  }
  if (show_progress) std::fprintf(stderr, "\r\033[K");

  std::vector<std::string> rows = options.detectors;
  rows.push_back("null");
  Json json;
  json["detectors"] = options.detectors;
  json["scenarios"] = options.scenarios;
  json["seeds"] = options.seeds;
  for (const BenchRun& r : results) {
    Json run;
    run["scenario"] = options.scenarios[r.scenario];
    run["seed"] = r.seed;
    run["simulated_s"] = exact_seconds(r.simulated);
    run["scored_incidents"] = r.scored_incidents;
    for (std::size_t d = 0; d < rows.size(); ++d) run["scores"][rows[d]] = r.detectors[d];
    json["runs"].push_back(run);
  }

  const auto plural = [](std::size_t n) { return n == 1 ? "" : "s"; };
  const std::size_t seeds = static_cast<std::size_t>(options.seeds);
  std::printf(
      "dosim bench: %zu detector%s x %zu scenario%s x %zu seed%s = %zu run%s on %zu thread%s\n",
      options.detectors.size(), plural(options.detectors.size()), plans.size(),
      plural(plans.size()), seeds, plural(seeds), jobs.size(), plural(jobs.size()), threads,
      plural(threads));
  std::printf("  medians over runs, (min-max) where they differ; TTD over runs that detected\n");
  // The first column as wide as its longest name (a python:FILE.py:CLASS token is long).
  int name_width = 16;
  for (const std::string& row : rows)
    name_width = std::max(name_width, static_cast<int>(row.size()));
  std::printf("  %-*s", name_width, "detector");
  for (const MetricColumn& c : kBenchColumns)
    if (c.header) std::printf(" %-19s", c.header);
  std::printf("\n");
  for (std::size_t d = 0; d < rows.size(); ++d) {
    std::printf("  %-*s", name_width, rows[d].c_str());
    for (const MetricColumn& c : kBenchColumns) {
      std::vector<double> values;
      for (const BenchRun& r : results) values.push_back(metric_value(r.detectors[d], c.key));
      const Spread s = spread_of(values);
      if (c.header) std::printf(" %-19s", cell(s, c.format).c_str());
      json["summary"][rows[d]][c.key] = {
          {"median", s.median}, {"min", s.min}, {"max", s.max}, {"runs", s.runs}};
    }
    std::printf("\n");
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::printf("  wall time %.2f s\n", wall);
  if (!options.out_path.empty()) {
    if (const std::string problem = write_file_replacing(options.out_path, json.dump(2) + "\n");
        !problem.empty()) {
      std::fprintf(stderr, "%s: cannot write the results: %s\n", options.out_path.c_str(),
                   problem.c_str());
      return kExitBadInput;
    }
    std::printf("  results   %s\n", options.out_path.c_str());
  }
  if (!options.report_path.empty()) {
    if (const std::string problem =
            write_file_replacing(options.report_path, render_bench_report(json.dump()));
        !problem.empty()) {
      std::fprintf(stderr, "%s: cannot write the report: %s\n", options.report_path.c_str(),
                   problem.c_str());
      return kExitBadInput;
    }
    std::printf("  report    %s\n", options.report_path.c_str());
  }
  return kExitOk;
}

}  // namespace dosim::cli

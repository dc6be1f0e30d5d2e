// `dosim bench`: detectors x scenarios x seeds. Every (scenario, seed) is one simulation
// that feeds all the requested detectors at once (detectors only watch; they do not change
// the world), scored per detector against the run's ground truth beside a null and a
// random baseline. Runs go to a pool of K threads; each result lands in its own slot, so
// the table and the JSON are identical whatever K. No trace is written.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "dosim/analysis/scoring.h"
#include "commands.h"
#include "detectors/runner.h"
#include "dosim/error.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/engine/simulation.h"
#include "engine/yaml_reader.h"
#include "scripting/script_host.h"

namespace dosim::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The metrics of one detector on one run, in table order.
struct Metrics {
  double precision = 0, recall = 0, f1 = 0, f1_random = 0;
  double ttd_median_s = kNaN;  // NaN when nothing was detected
  double false_alarms_per_hour = 0;
  double alerts = 0;
  double nab_standard = 0, nab_low_fp = 0, nab_low_fn = 0;
  double range_precision = 1, range_recall = 1, range_f1 = 0;
};

struct MetricColumn {
  const char* key;
  const char* header;  // nullptr: in the JSON only
  double Metrics::*field;
  const char* format;  // printf format of one value
};

constexpr MetricColumn kColumns[] = {
    {"precision", "precision", &Metrics::precision, "%.2f"},
    {"recall", "recall", &Metrics::recall, "%.2f"},
    {"f1", "F1", &Metrics::f1, "%.2f"},
    {"f1_random", "F1 random", &Metrics::f1_random, "%.2f"},
    {"ttd_median_s", "TTD p50 s", &Metrics::ttd_median_s, "%.0f"},
    {"false_alarms_per_hour", "false/h", &Metrics::false_alarms_per_hour, "%.2f"},
    {"alerts", "alerts", &Metrics::alerts, "%.0f"},
    {"nab_standard", "NAB std", &Metrics::nab_standard, "%.1f"},
    {"range_f1", "range F1", &Metrics::range_f1, "%.2f"},
    {"nab_reward_low_fp", nullptr, &Metrics::nab_low_fp, "%.1f"},
    {"nab_reward_low_fn", nullptr, &Metrics::nab_low_fn, "%.1f"},
    {"range_precision", nullptr, &Metrics::range_precision, "%.2f"},
    {"range_recall", nullptr, &Metrics::range_recall, "%.2f"},
};

struct RunResult {
  std::size_t scenario = 0;
  std::uint64_t seed = 0;
  SimTime simulated = 0;
  std::size_t scored_incidents = 0;
  std::vector<Metrics> detectors;  // per requested detector, then the null baseline
};

Metrics metrics_of(const Scores& scores, const Scores& random) {
  Metrics m;
  m.precision = scores.precision;
  m.recall = scores.recall;
  m.f1 = scores.f1;
  m.f1_random = random.f1;
  if (scores.time_to_detect.count > 0) m.ttd_median_s = to_seconds(scores.time_to_detect.median);
  m.false_alarms_per_hour = scores.false_alarms_per_hour;
  m.alerts = static_cast<double>(scores.alerts);
  m.nab_standard = scores.time.nab_standard;
  m.nab_low_fp = scores.time.nab_low_fp;
  m.nab_low_fn = scores.time.nab_low_fn;
  m.range_precision = scores.time.range_precision;
  m.range_recall = scores.time.range_recall;
  m.range_f1 = scores.time.range_f1;
  return m;
}

// One scenario with the specs its run feeds, in the order of --detectors.
struct Plan {
  std::string path;
  Scenario scenario;
  std::vector<DetectorSpec> specs;
  std::vector<DetectorSpec> script_specs;  // the Lua detectors the script runs (`watch`)
  std::string script;                      // --script: run in every run of this scenario
};

// Starts the script in `simulation` (its chaos runs too, as in `dosim run --script`).
std::unique_ptr<ScriptHost> start_script(const std::string& path, Simulation& simulation,
                                         std::uint64_t seed) {
  ScriptOptions options;
  options.path = path;
  auto host = std::make_unique<ScriptHost>(simulation, std::move(options), seed);
  host->start();
  return host;
}

// Resolves each requested name: a detector of the scenario's `detectors:` section by that
// name, else a kind's bench default. Unknown names are input errors.
std::vector<DetectorSpec> resolve(const Plan& plan, const std::vector<std::string>& names) {
  std::vector<DetectorSpec> specs;
  std::vector<Diagnostic> problems;
  for (const std::string& name : names) {
    const auto own = std::find_if(plan.scenario.detectors.begin(), plan.scenario.detectors.end(),
                                  [&](const DetectorSpec& d) { return d.name == name; });
    if (own != plan.scenario.detectors.end()) {
      specs.push_back(*own);
      continue;
    }
    const auto lua = std::find_if(plan.script_specs.begin(), plan.script_specs.end(),
                                  [&](const DetectorSpec& d) { return d.name == name; });
    if (lua != plan.script_specs.end()) {
      specs.push_back(*lua);
      continue;
    }
    if (std::optional<DetectorSpec> spec = DetectorRunner::bench_spec(name)) {
      specs.push_back(*spec);
      continue;
    }
    std::vector<std::string> known = {"threshold", "mad", "ewma", "burn_rate", "regression"};
    for (const DetectorSpec& d : plan.scenario.detectors) known.push_back(d.name);
    for (const DetectorSpec& d : plan.script_specs) known.push_back(d.name);
    problems.push_back({"--detectors", 0, 0,
                        "'" + name + "' is neither a detector kind nor a detector of " + plan.path +
                            did_you_mean(name, known)});
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return specs;
}

RunResult run_one(const Plan& plan, std::size_t scenario_index, std::uint64_t seed,
                  std::size_t requested) {
  Simulation simulation(plan.scenario, seed);
  std::unique_ptr<ScriptHost> script;
  if (!plan.script.empty()) script = start_script(plan.script, simulation, seed);
  DetectorRunner runner(simulation.scenario(), plan.specs,
                        script ? script->detector_factory() : DetectorFactory{});
  simulation.add_sink(&runner);
  if (script) {
    script->attach(runner);
    simulation.add_sink(script.get());
  }
  const auto run = simulation.run();
  const std::vector<IncidentRecord> incidents = simulation.incidents();
  std::vector<int> services;
  for (std::size_t s = 0; s < plan.scenario.services.size(); ++s)
    services.push_back(static_cast<int>(s));

  const ScoringOptions options{.tolerance = 0, .tick = plan.scenario.tick};
  RunResult result;
  result.scenario = scenario_index;
  result.seed = seed;
  result.simulated = run.simulated;
  for (std::size_t d = 0; d < requested; ++d) {
    std::vector<Alert> own;
    for (const Alert& a : runner.alerts())
      if (a.detector == plan.specs[d].name) own.push_back(a);
    const ScoresWithBaselines s =
        score_with_baselines(incidents, own, run.simulated, services, seed, options);
    result.scored_incidents = s.detector.scored_incidents;
    result.detectors.push_back(metrics_of(s.detector, s.random_baseline));
  }
  const Scores null_scores = score(incidents, {}, run.simulated, options);
  result.detectors.push_back(metrics_of(null_scores, null_scores));
  return result;
}

struct Spread {
  double median = kNaN, min = kNaN, max = kNaN;
  std::size_t count = 0;  // values that were not NaN
};

// Median (the mean of the two middle values for an even count), min and max, NaN skipped.
Spread spread(std::vector<double> values) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  Spread s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

std::string cell(const Spread& s, const char* format) {
  if (s.count == 0) return "-";
  char buffer[64];
  char median[24], low[24], high[24];
  std::snprintf(median, sizeof median, format, s.median);
  std::snprintf(low, sizeof low, format, s.min);
  std::snprintf(high, sizeof high, format, s.max);
  if (std::string(low) == high)
    std::snprintf(buffer, sizeof buffer, "%s", median);
  else
    std::snprintf(buffer, sizeof buffer, "%s (%s-%s)", median, low, high);
  return buffer;
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
  std::vector<Plan> plans;
  std::vector<Diagnostic> problems;
  for (const std::string& path : options.scenarios) {
    Plan plan;
    plan.path = path;
    try {
      plan.scenario = load_scenario_file(path);
      plan.scenario.incident_rules.clear();  // they watch the scenario's own detectors
      plan.script = options.script_path;
      std::unique_ptr<Simulation> probe;
      std::unique_ptr<ScriptHost> script;
      if (!plan.script.empty()) {  // what the script defines, and whether it starts at all
        probe = std::make_unique<Simulation>(plan.scenario, plan.scenario.seed);
        script = start_script(plan.script, *probe, plan.scenario.seed);
        plan.script_specs = script->detector_specs();
      }
      plan.specs = resolve(plan, options.detectors);
      // Bad parameters fail here, not in a run.
      DetectorRunner check(plan.scenario, plan.specs,
                           script ? script->detector_factory() : DetectorFactory{});
    } catch (const InputError& error) {
      problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
      continue;
    } catch (const ScriptError& error) {
      problems.push_back({"--script", 0, 0, error.what()});
      continue;
    }
    plans.push_back(std::move(plan));
  }
  if (!problems.empty()) {
    print_input_error(InputError(std::move(problems)));
    return kExitBadInput;
  }
  std::ofstream out_file;
  if (!options.out_path.empty()) {
    out_file.open(options.out_path, std::ios::binary | std::ios::trunc);
    if (!out_file) {
      std::fprintf(stderr, "%s: cannot write the results\n", options.out_path.c_str());
      return kExitBadInput;
    }
  }

  // Every (scenario, seed), in a fixed order; seeds are the scenario's seed + 0 .. N-1.
  std::vector<std::pair<std::size_t, std::uint64_t>> jobs;
  for (std::size_t p = 0; p < plans.size(); ++p)
    for (int i = 0; i < options.seeds; ++i)
      jobs.emplace_back(p, plans[p].scenario.seed + static_cast<std::uint64_t>(i));
  const std::size_t requested = options.detectors.size();
  std::vector<RunResult> results(jobs.size());
  std::vector<std::string> failures(jobs.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex progress_mutex;
  const bool show_progress = !options.quiet && isatty(STDERR_FILENO);
  auto worker = [&] {
    for (std::size_t j = next++; j < jobs.size(); j = next++) {
      try {
        results[j] = run_one(plans[jobs[j].first], jobs[j].first, jobs[j].second, requested);
      } catch (const std::exception& error) {  // a script failing in this run
        failures[j] = error.what();
      }
      const std::size_t finished = ++done;
      if (show_progress) {
        std::lock_guard lock(progress_mutex);
        std::fprintf(stderr, "\rbench: %zu/%zu runs", finished, jobs.size());
      }
    }
  };
  const std::size_t threads = std::min<std::size_t>(options.threads, jobs.size());
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  if (show_progress) std::fprintf(stderr, "\r\033[K");
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    if (failures[j].empty()) continue;
    std::fprintf(stderr, "%s (seed %llu): %s\n", options.scenarios[jobs[j].first].c_str(),
                 static_cast<unsigned long long>(jobs[j].second), failures[j].c_str());
    return kExitBadInput;
  }

  std::vector<std::string> rows = options.detectors;
  rows.push_back("null");
  nlohmann::ordered_json json;
  json["detectors"] = options.detectors;
  json["scenarios"] = options.scenarios;
  json["seeds"] = options.seeds;
  for (const RunResult& r : results) {
    nlohmann::ordered_json run;
    run["scenario"] = options.scenarios[r.scenario];
    run["seed"] = r.seed;
    run["simulated_s"] = to_seconds(r.simulated);
    run["scored_incidents"] = r.scored_incidents;
    for (std::size_t d = 0; d < rows.size(); ++d)
      for (const MetricColumn& c : kColumns)
        run["scores"][rows[d]][c.key] = r.detectors[d].*c.field;
    json["runs"].push_back(run);
  }

  std::printf("dosim bench: %zu detectors x %zu scenarios x %d seeds = %zu runs on %zu threads\n",
              requested, plans.size(), options.seeds, jobs.size(), threads);
  std::printf("  medians over runs, (min-max) where they differ; TTD over runs that detected\n");
  std::printf("  %-16s", "detector");
  for (const MetricColumn& c : kColumns)
    if (c.header) std::printf(" %-19s", c.header);
  std::printf("\n");
  for (std::size_t d = 0; d < rows.size(); ++d) {
    std::printf("  %-16s", rows[d].c_str());
    for (const MetricColumn& c : kColumns) {
      std::vector<double> values;
      for (const RunResult& r : results) values.push_back(r.detectors[d].*c.field);
      const Spread s = spread(values);
      if (c.header) std::printf(" %-19s", cell(s, c.format).c_str());
      json["summary"][rows[d]][c.key] = {
          {"median", s.median}, {"min", s.min}, {"max", s.max}, {"runs", s.count}};
    }
    std::printf("\n");
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::printf("  wall time %.2f s\n", wall);
  if (out_file.is_open()) {
    out_file << json.dump(2) << "\n";
    out_file.close();
    if (!out_file) {
      std::fprintf(stderr, "%s: cannot write the results\n", options.out_path.c_str());
      return kExitBadInput;
    }
    std::printf("  results   %s\n", options.out_path.c_str());
  }
  return kExitOk;
}

}  // namespace dosim::cli

#include "bench_runs.h"

#include <limits>

#include "analysis/scores_json.h"
#include "util/output_file.h"

namespace dosim::cli {

using Json = nlohmann::ordered_json;

Json bench_metrics(const Scores& scores, const Scores& random) {
  Json m = to_json(scores);
  m["f1_random"] = random.f1;
  m["ttd_median_s"] = scores.time_to_detect.count > 0
                          ? Json(exact_seconds(scores.time_to_detect.median))
                          : Json(nullptr);  // nothing detected
  m["precision_random"] = random.precision;
  m["recall_random"] = random.recall;
  m["false_alarms_per_hour_random"] = random.false_alarms_per_hour;
  Json ttd = Json::array();  // ascending, one per detected incident
  for (SimTime t : scores.time_to_detect.values) ttd.push_back(exact_seconds(t));
  m["ttd_s"] = std::move(ttd);
  return m;
}

double metric_value(const Json& metrics, const char* key) {
  const Json& v = metrics.at(key);
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}

BenchRun run_bench_once(const RunPlan& plan, std::size_t scenario_index, std::uint64_t seed) {
  const RunPlan seeded = plan.with_seed(seed);
  Run run(seeded);
  const RunReport report = run.run();
  std::vector<int> services;
  for (std::size_t s = 0; s < report.scenario.services.size(); ++s)
    services.push_back(static_cast<int>(s));
  const ScoringOptions options{.tolerance = 0, .tick = report.scenario.tick};
  BenchRun result;
  result.scenario = scenario_index;
  result.seed = seed;
  result.simulated = report.result.simulated;
  for (const std::string& name : report.detectors) {
    std::vector<Alert> own;
    for (const Alert& a : report.alerts)
      if (a.detector == name) own.push_back(a);
    const ScoresWithBaselines s = score_with_baselines(
        report.incidents, own, report.result.simulated, services, seed, options);
    result.scored_incidents = s.detector.scored_incidents;
    result.detectors.push_back(bench_metrics(s.detector, s.random_baseline));
  }
  const Scores null_scores = score(report.incidents, {}, report.result.simulated, options);
  result.detectors.push_back(bench_metrics(null_scores, null_scores));
  return result;
}

std::string bench_output_problem(const std::string& path, const std::vector<std::string>& taken) {
  for (const std::string& other : taken)
    if (same_file(path, other)) return "it is also " + other;
  return unwritable_reason(path);
}

}  // namespace dosim::cli

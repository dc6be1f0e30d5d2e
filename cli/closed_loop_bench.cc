// `dosim bench --closed-loop` (docs/remediation.md, "Closed-loop benchmark"): each detector
// drives its own run of every scenario and seed, its alerts triggering the scenario's
// playbooks (their `detector` and `severity` matches left out: every playbook answers the
// detector under test; `metric` and `services` still apply), so detectors are compared on time to
// mitigate and to recover, beside a null detector (no detector: customers report an impact
// `remediation: customer_report` after it starts, as an alert on its root service, when it
// still lasts then; otherwise it lasts as long as its cause) and an oracle (an alert on the root
// service at the first tick of each impact). An incident without a root service (an outage of a
// zone or region) is reported on the first service it affected. Both take where and when impacts
// start from a first run without responders, then from their own run (whose responses move
// later impacts) until that stops changing (at most 8 runs). A detector token may join several with '+'
// (`mad+threshold`): they run together in one run, as one row, the way a team runs a set of
// detectors. Runs go to a pool of threads; each result lands in its own slot, so the table and the
// JSON are the same for any thread count.
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis/spread.h"
#include "bench_runs.h"
#include "commands.h"
#include "dosim/analysis/scoring.h"
#include "dosim/detectors/detector.h"
#include "dosim/engine/scenario_loader.h"
#include "dosim/run.h"
#include "util/output_file.h"
#include "util/parallel_map.h"

namespace dosim::cli {
namespace {

using Json = nlohmann::ordered_json;

// Alerts on a service at given ticks (the root service at the first tick of each impact, or a
// customer report's): series i is service i (one metric over every service); step k scores the
// tick that ends at (k + 1) * tick.
class OracleDetector : public Detector {
 public:
  OracleDetector(std::multimap<SimTime, int> first_ticks, SimTime tick)
      : first_ticks_(std::move(first_ticks)), tick_(tick) {}
  void step(std::span<const float>, std::span<float> scores) override {
    std::fill(scores.begin(), scores.end(), 0.0f);
    const SimTime start = steps_++ * tick_;  // the tick's start
    const auto [begin, end] = first_ticks_.equal_range(start);
    for (auto it = begin; it != end; ++it)
      if (it->second >= 0 && static_cast<std::size_t>(it->second) < scores.size())
        scores[it->second] = 1.0f;
  }
  double limit() const override { return 0.5; }

 private:
  std::multimap<SimTime, int> first_ticks_;  // impact start -> root service
  SimTime tick_;
  std::int64_t steps_ = 0;
};

// The detectors of one row: a token, or several joined with '+'.
std::vector<std::string> detectors_of(const std::string& token) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (true) {
    const std::size_t plus = token.find('+', from);
    out.push_back(token.substr(from, plus == std::string::npos ? std::string::npos : plus - from));
    if (plus == std::string::npos) return out;
    from = plus + 1;
  }
}

struct IncidentOutcome {  // one scored incident of one run
  std::string name, cause;
  SimTime ttd = -1, ttm = -1, ttr = -1;  // -1: not detected / not mitigated
};

struct Outcome {  // one row of one run
  std::size_t scored = 0, detected = 0, mitigated = 0, automatic = 0, caused = 0;
  std::size_t judged = 0, correct = 0;
  double budget = 0;  // SLO error budget burned
  std::vector<SimTime> ttd, ttm, ttr;
  std::vector<IncidentOutcome> incidents;
};

Outcome outcome_of(const RunReport& report) {
  Outcome o;
  const Scores scores = score(report.incidents, report.alerts, report.result.simulated,
                              {.tolerance = 0, .tick = report.scenario.tick});
  const RemediationScores remedied = report.remediation_scores();
  // The scored incidents: not silent and not caused by the responders' restarts (those are
  // counted apart, in `caused`), so that every row scores the scenario's own incidents.
  std::map<std::int64_t, SimTime> mitigated_at(remedied.mitigated_at.begin(),
                                               remedied.mitigated_at.end());
  for (std::size_t i = 0; i < scores.incidents.size(); ++i) {
    const IncidentScore& s = scores.incidents[i];
    const auto found = mitigated_at.find(s.id);
    if (s.silent || found == mitigated_at.end()) continue;
    ++o.scored;
    o.ttr.push_back(s.time_to_recover);
    IncidentOutcome incident{
        report.incidents[i].name, report.incidents[i].cause, -1,
        found->second >= 0 ? found->second - report.incidents[i].impact_start : -1,
        s.time_to_recover};
    if (s.detected) {
      ++o.detected;
      o.ttd.push_back(s.time_to_detect);
      incident.ttd = s.time_to_detect;
    }
    o.incidents.push_back(std::move(incident));
  }
  o.mitigated = remedied.mitigated_incidents;
  o.automatic = remedied.automatic;
  o.caused = remedied.caused_incidents;
  o.judged = remedied.judged_actions;
  o.correct = remedied.correct_actions;
  o.budget = remedied.error_budget_burned;
  o.ttm = remedied.time_to_mitigate.values;
  return o;
}

RunReport run_with(Scenario scenario, std::uint64_t seed, RunOptions options) {
  scenario.script.clear();
  options.seed = seed;
  options.incident_rules = false;
  const RunPlan plan = RunPlan::from_scenario(std::move(scenario), std::move(options));
  Run run(plan);
  return run.run();
}

// Every row of one (scenario, seed): the detectors, then null and oracle.
std::vector<Outcome> closed_loop_run(const Scenario& base, std::uint64_t seed,
                                     const std::vector<std::string>& detectors) {
  Scenario answering = base;  // every playbook answers whichever detector runs
  for (PlaybookSpec& pb : answering.playbooks) {
    pb.detector.clear();  // the detector under test, whatever its name and severities
    pb.severity.clear();
  }
  std::vector<Outcome> rows;
  for (const std::string& detector : detectors) {
    RunOptions options;
    options.detectors = detectors_of(detector);
    options.detectors_source = "--detectors";
    rows.push_back(outcome_of(run_with(answering, seed, options)));
  }
  // Where and when each impact starts: first from the same run without responders, then
  // from the baseline's own run, since its responses move later impacts (a defect fixed
  // earlier starts a leak's impact later), until the alerts stop moving.
  Scenario plain = answering;
  plain.detectors.clear();
  plain.detectors_given = true;
  plain.playbooks.clear();
  const auto schedule = [&](const std::vector<IncidentRecord>& incidents, bool customers) {
    std::multimap<SimTime, int> ticks;
    for (const IncidentRecord& incident : incidents) {
      if (incident.silent) continue;
      // The root service; for a cause without one (a zone's or region's outage), the first
      // service it affected (the services are sorted: the first declared, often the entry).
      const int where = incident.root_service >= 0  ? incident.root_service
                        : incident.affected.empty() ? -1
                                                    : incident.affected.front();
      const SimTime reported = incident.impact_start + base.customer_report;
      if (!customers)
        ticks.emplace(incident.impact_start, where);
      else if (reported < incident.impact_end)  // customers report what still hurts then
        ticks.emplace(reported / base.tick * base.tick, where);
    }
    return ticks;
  };
  const std::vector<IncidentRecord> unanswered = run_with(plain, seed, {}).incidents;
  // Made by the factory: the null detector from the customers' reports, the oracle from
  // the impacts' first ticks.
  const auto planted = [&](const std::string& kind,
                           std::multimap<SimTime, int> ticks) -> RunReport {
    Scenario scenario = answering;
    DetectorSpec spec;
    spec.name = kind;
    spec.kind = kind;
    spec.metrics = {"rps"};
    spec.severity = "critical";
    scenario.detectors = {spec};
    scenario.detectors_given = true;
    RunOptions options;
    const SimTime tick = base.tick;
    options.detector_factory = [ticks, tick, kind](const DetectorSpec& s,
                                                   std::size_t) -> std::unique_ptr<Detector> {
      if (s.kind != kind) return nullptr;
      return std::make_unique<OracleDetector>(ticks, tick);
    };
    return run_with(std::move(scenario), seed, options);
  };
  constexpr int kMostRounds = 8;  // each round settles at least the earliest moved alert
  for (const bool customers : {true, false}) {
    const std::string kind = customers ? "customers" : "oracle";
    std::multimap<SimTime, int> ticks = schedule(unanswered, customers);
    RunReport report = planted(kind, ticks);
    for (int round = 1; round < kMostRounds; ++round) {
      std::multimap<SimTime, int> moved = schedule(report.incidents, customers);
      if (moved == ticks) break;
      ticks = std::move(moved);
      report = planted(kind, ticks);
    }
    rows.push_back(outcome_of(report));
  }
  return rows;
}

std::string cell(const std::vector<SimTime>& values) {
  if (values.empty()) return "-";
  const Distribution d = make_distribution(values);
  return format_duration(d.median / kSecond * kSecond);
}

std::string mean_cell(const std::vector<SimTime>& values) {
  if (values.empty()) return "-";
  const Distribution d = make_distribution(values);
  return format_duration(static_cast<SimTime>(d.mean) / kSecond * kSecond);
}

}  // namespace

int closed_loop_bench(const BenchOptions& options) {
  std::vector<Scenario> scenarios;
  std::vector<Diagnostic> problems;
  for (const std::string& path : options.scenarios) {
    try {
      Scenario scenario = load_scenario_file(path);
      if (scenario.playbooks.empty())
        problems.push_back({path, 0, 0,
                            "--closed-loop needs the scenario's remediation: playbooks "
                            "(docs/remediation.md)"});
      // Checked once here, as every run would check it.
      RunOptions check;
      std::vector<std::string> all;  // every detector of every row, each once
      for (const std::string& token : options.detectors)
        for (const std::string& d : detectors_of(token))
          if (std::find(all.begin(), all.end(), d) == all.end()) all.push_back(d);
      check.detectors = all;
      check.detectors_source = "--detectors";
      check.incident_rules = false;
      Scenario copy = scenario;
      copy.script.clear();
      RunPlan::from_scenario(std::move(copy), std::move(check));
      scenarios.push_back(std::move(scenario));
    } catch (const Error& error) {
      problems.insert(problems.end(), error.diagnostics().begin(), error.diagnostics().end());
    }
  }
  if (!options.out_path.empty())  // checked before any run, written at the end
    if (const std::string problem = bench_output_problem(options.out_path, options.scenarios);
        !problem.empty())
      problems.push_back({options.out_path, 0, 0, "cannot write the results: " + problem});
  if (!problems.empty()) {
    print_error(InputError(std::move(problems)));
    return kExitBadInput;
  }
  std::vector<std::pair<std::size_t, std::uint64_t>> jobs;
  for (std::size_t p = 0; p < scenarios.size(); ++p)
    for (int i = 0; i < options.seeds; ++i)
      jobs.emplace_back(p, scenarios[p].seed + static_cast<std::uint64_t>(i));
  std::vector<std::vector<Outcome>> results(jobs.size());
  try {
    parallel_for(jobs.size(), options.threads, [&](std::size_t j) {
      results[j] = closed_loop_run(scenarios[jobs[j].first], jobs[j].second, options.detectors);
    });
  } catch (const Error& error) {
    print_error(error);
    return kExitBadInput;
  }
  std::vector<std::string> rows = options.detectors;
  rows.push_back("null");
  rows.push_back("oracle");
  Json json;
  json["closed_loop"] = true;
  json["detectors"] = options.detectors;
  json["scenarios"] = options.scenarios;
  json["seeds"] = options.seeds;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    Json run = {{"scenario", options.scenarios[jobs[j].first]}, {"seed", jobs[j].second}};
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const Outcome& o = results[j][r];
      const auto secs = [](const std::vector<SimTime>& v) {
        Json out = Json::array();
        for (SimTime t : v) out.push_back(static_cast<double>(t) / 1e9);
        return out;
      };
      const auto sec = [](SimTime t) -> Json {
        return t < 0 ? Json(nullptr) : Json(static_cast<double>(t) / 1e9);
      };
      Json incidents = Json::array();
      for (const IncidentOutcome& i : o.incidents)
        incidents.push_back({{"name", i.name},
                             {"cause", i.cause},
                             {"ttd_s", sec(i.ttd)},
                             {"ttm_s", sec(i.ttm)},
                             {"ttr_s", sec(i.ttr)}});
      run["rows"][rows[r]] = {{"scored", o.scored},           {"detected", o.detected},
                              {"mitigated", o.mitigated},     {"automatic", o.automatic},
                              {"caused", o.caused},           {"judged_actions", o.judged},
                              {"correct_actions", o.correct}, {"error_budget_burned", o.budget},
                              {"ttd_s", secs(o.ttd)},         {"ttm_s", secs(o.ttm)},
                              {"ttr_s", secs(o.ttr)},         {"incidents", incidents}};
    }
    json["runs"].push_back(run);
  }
  const auto plural = [](std::size_t n) { return n == 1 ? "" : "s"; };
  const std::size_t seeds = static_cast<std::size_t>(options.seeds);
  std::printf(
      "dosim bench --closed-loop: %zu detector%s x %zu scenario%s x %zu seed%s, each "
      "driving the playbooks\n",
      options.detectors.size(), plural(options.detectors.size()), scenarios.size(),
      plural(scenarios.size()), seeds, plural(seeds));
  std::printf("  over every scored incident of every run: medians (p50) and means (MTTD, MTTR)\n");
  int width = 16;  // the first column: as wide as the longest row name
  for (const std::string& row : rows) width = std::max(width, static_cast<int>(row.size()));
  std::printf("  %-*s %9s %9s %5s %9s %9s %9s %9s %9s %8s %8s %7s\n", width, "detector", "detected",
              "mitigated", "auto", "TTD p50", "MTTD", "TTM p50", "TTR p50", "MTTR", "correct",
              "budget", "caused");
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::size_t scored = 0, detected = 0, mitigated = 0, automatic = 0, judged = 0, correct = 0,
                caused = 0;
    double budget = 0;
    std::vector<SimTime> ttd, ttm, ttr;
    for (const auto& run : results) {
      const Outcome& o = run[r];
      scored += o.scored;
      detected += o.detected;
      mitigated += o.mitigated;
      automatic += o.automatic;
      judged += o.judged;
      correct += o.correct;
      caused += o.caused;
      budget += o.budget;
      ttd.insert(ttd.end(), o.ttd.begin(), o.ttd.end());
      ttm.insert(ttm.end(), o.ttm.begin(), o.ttm.end());
      ttr.insert(ttr.end(), o.ttr.begin(), o.ttr.end());
    }
    char det[32], mit[32], aut[32], cor[32], bud[32];
    std::snprintf(det, sizeof det, "%zu/%zu", detected, scored);
    std::snprintf(mit, sizeof mit, "%zu/%zu", mitigated, scored);
    std::snprintf(cor, sizeof cor, "%zu/%zu", correct, judged);
    // The automatic remediation rate: scored incidents mitigated by an automation playbook.
    std::snprintf(aut, sizeof aut, "%.0f%%", scored ? 100.0 * automatic / scored : 0.0);
    // The mean over runs of the share of each run's budget burned.
    std::snprintf(bud, sizeof bud, "%.0f%%", results.empty() ? 0.0 : 100 * budget / results.size());
    std::printf("  %-*s %9s %9s %5s %9s %9s %9s %9s %9s %8s %8s %7zu\n", width, rows[r].c_str(),
                det, mit, aut, cell(ttd).c_str(), mean_cell(ttd).c_str(), cell(ttm).c_str(),
                cell(ttr).c_str(), mean_cell(ttr).c_str(), cor, bud, caused);
  }
  if (!options.out_path.empty()) {
    if (const std::string problem = write_file_replacing(options.out_path, json.dump(2) + "\n");
        !problem.empty()) {
      std::fprintf(stderr, "%s: cannot write the results: %s\n", options.out_path.c_str(),
                   problem.c_str());
      return kExitBadInput;
    }
    std::printf("  results   %s\n", options.out_path.c_str());
  }
  return kExitOk;
}

}  // namespace dosim::cli

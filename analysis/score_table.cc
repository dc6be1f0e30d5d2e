#include "dosim/analysis/score_table.h"

#include <algorithm>

#include "analysis/scores_json.h"

namespace dosim {

nlohmann::ordered_json to_json(const Scores& s) {
  nlohmann::ordered_json row;
  row["alerts"] = s.alerts;
  row["false_alarms"] = s.false_alarms;
  row["false_alarms_per_hour"] = s.false_alarms_per_hour;
  row["precision"] = s.precision;
  row["recall"] = s.recall;
  row["f1"] = s.f1;
  row["detected_incidents"] = s.detected_incidents;
  row["scored_incidents"] = s.scored_incidents;
  row["time_to_detect_ns"] = s.time_to_detect.values;
  row["time_to_detect_median_ns"] = s.time_to_detect.median;
  row["time_to_detect_p90_ns"] = s.time_to_detect.p90;
  row["time_to_recover_ns"] = s.time_to_recover.values;
  row["nab_standard"] = s.time.nab_standard;
  row["nab_reward_low_fp"] = s.time.nab_low_fp;
  row["nab_reward_low_fn"] = s.time.nab_low_fn;
  row["range_precision"] = s.time.range_precision;
  row["range_recall"] = s.time.range_recall;
  row["range_f1"] = s.time.range_f1;
  return row;
}

ScoreTable score_table(const std::vector<IncidentRecord>& incidents,
                       const std::vector<Alert>& alerts, const std::vector<std::string>& detectors,
                       const std::vector<DetectedIncident>& detected, std::size_t services,
                       std::uint64_t seed, SimTime simulated, SimTime tick,
                       const std::vector<std::string>& rule_names) {
  const ScoringOptions options{.tolerance = 0, .tick = tick};
  ScoreTable table;
  // An interrupted run's incidents whose cause had not begun are not counted (the trace keeps
  // them, silent), as `dosim serve` counts them.
  table.incidents = static_cast<std::size_t>(
      std::count_if(incidents.begin(), incidents.end(),
                    [&](const IncidentRecord& i) { return i.start < simulated; }));
  table.alerts = alerts.size();
  for (const std::string& name : detectors) {
    std::vector<Alert> own;
    for (const Alert& alert : alerts)
      if (alert.detector == name) own.push_back(alert);
    table.rows.emplace_back(name, score(incidents, own, simulated, options));
  }
  std::vector<int> all_services;
  for (std::size_t s = 0; s < services; ++s) all_services.push_back(static_cast<int>(s));
  const ScoresWithBaselines all =
      score_with_baselines(incidents, alerts, simulated, all_services, seed, options);
  table.rows.emplace_back("all detectors", all.detector);
  table.rows.emplace_back("random baseline", all.random_baseline);
  table.rows.emplace_back("null baseline", all.null_baseline);

  const std::vector<Alert> as_alerts = detected_as_alerts(detected);
  std::vector<std::string> rules = rule_names;  // a rule that declared nothing has its row
  for (const Alert& d : as_alerts)
    if (std::find(rules.begin(), rules.end(), d.detector) == rules.end())
      rules.push_back(d.detector);
  for (const std::string& rule : rules) {
    std::vector<Alert> own;
    for (const Alert& d : as_alerts)
      if (d.detector == rule) own.push_back(d);
    table.incident_rules.emplace_back(rule, score(incidents, own, simulated, options));
  }
  return table;
}

// Names come from traces and files: a byte that is not UTF-8 becomes U+FFFD.
std::string scores_json(const Scores& scores, int indent) {
  return to_json(scores).dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string score_table_json(const ScoreTable& table, int indent) {
  nlohmann::ordered_json out;
  out["incidents"] = table.incidents;
  out["alerts"] = table.alerts;
  for (const auto& [label, scores] : table.rows) out["scores"][label] = to_json(scores);
  for (const auto& [label, scores] : table.incident_rules)
    out["incident_rules"][label] = to_json(scores);
  return out.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dosim

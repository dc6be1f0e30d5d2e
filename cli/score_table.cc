#include "score_table.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "dosim/analysis/scoring.h"

namespace dosim::cli {
namespace {

// A duration for the table: whole seconds from 1 s up, whole milliseconds below.
std::string short_duration(SimTime t) {
  if (t < 0) return "-";
  if (t >= kSecond) return format_duration((t + kSecond / 2) / kSecond * kSecond);
  return format_duration((t + kMillisecond / 2) / kMillisecond * kMillisecond);
}

void print_header(const char* first) {
  std::printf("    %-22s %6s %8s %9s %7s %5s  %-10s %-10s %7s %8s\n", first, "alerts", "false/h",
              "precision", "recall", "F1", "TTD p50", "TTD p90", "NAB std", "range F1");
}

void print_row(const std::string& label, const Scores& s) {
  std::printf("    %-22s %6zu %8.2f %9.2f %7.2f %5.2f  %-10s %-10s %7.1f %8.2f\n", label.c_str(),
              s.alerts, s.false_alarms_per_hour, s.precision, s.recall, s.f1,
              s.time_to_detect.count ? short_duration(s.time_to_detect.median).c_str() : "-",
              s.time_to_detect.count ? short_duration(s.time_to_detect.p90).c_str() : "-",
              s.time.nab_standard, s.time.range_f1);
}

struct Table {
  std::vector<std::pair<std::string, Scores>> rows;
};

Table compute(const std::vector<IncidentRecord>& incidents, const std::vector<Alert>& alerts,
              const std::vector<std::string>& detectors, std::size_t services, std::uint64_t seed,
              SimTime simulated, SimTime tick) {
  const ScoringOptions options{.tolerance = 0, .tick = tick};
  Table table;
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
  return table;
}

}  // namespace

void print_alertmanager_line(std::size_t raw_alerts, std::size_t notifications,
                             std::size_t inhibited, std::size_t deduplicated) {
  std::printf(
      "  alertmanager %zu raw alerts -> %zu notifications (alert reduction %.0f%%); "
      "%zu inhibited, %zu deduplicated\n",
      raw_alerts, notifications, 100.0 * alert_reduction(notifications, raw_alerts), inhibited,
      deduplicated);
}

void print_incident_rule_scores(const std::vector<IncidentRecord>& incidents,
                                const std::vector<Alert>& detected, SimTime simulated,
                                SimTime tick) {
  std::vector<std::string> rules;
  for (const Alert& d : detected)
    if (std::find(rules.begin(), rules.end(), d.detector) == rules.end())
      rules.push_back(d.detector);
  if (rules.empty()) return;
  std::printf("  incident rules, scored (a detected incident matches a true one it opens in)\n");
  print_header("rule");
  for (const std::string& rule : rules) {
    std::vector<Alert> own;
    for (const Alert& d : detected)
      if (d.detector == rule) own.push_back(d);
    print_row(rule, score(incidents, own, simulated, {.tolerance = 0, .tick = tick}));
  }
}

void print_score_table(const std::vector<IncidentRecord>& incidents,
                       const std::vector<Alert>& alerts, const std::vector<std::string>& detectors,
                       std::size_t services, std::uint64_t seed, SimTime simulated, SimTime tick) {
  std::printf(
      "  scores      %zu alerts against %zu incidents (alerts match an affected service "
      "inside the impact window)\n",
      alerts.size(), incidents.size());
  print_header("detector");
  for (const auto& [label, scores] :
       compute(incidents, alerts, detectors, services, seed, simulated, tick).rows)
    print_row(label, scores);
}

std::string score_table_json(const std::vector<IncidentRecord>& incidents,
                             const std::vector<Alert>& alerts,
                             const std::vector<std::string>& detectors, std::size_t services,
                             std::uint64_t seed, SimTime simulated, SimTime tick) {
  nlohmann::ordered_json out;
  out["incidents"] = incidents.size();
  out["alerts"] = alerts.size();
  for (const auto& [label, s] :
       compute(incidents, alerts, detectors, services, seed, simulated, tick).rows) {
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
    out["scores"][label] = row;
  }
  return out.dump(2);
}

}  // namespace dosim::cli

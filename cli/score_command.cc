// `dosim score TRACE.h5 [--json]`: the score table recomputed from a trace alone.
// `dosim score TRACE.h5 --alerts FILE | --scores FILE [--threshold X] [--json]`: another
// tool's alerts, or the alerts its anomaly scores make, scored against the trace's ground
// truth (dosim/analysis/external_scores.h).
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.h"
#include "dosim/analysis/external_scores.h"
#include "dosim/analysis/score_table.h"
#include "dosim/analysis/trace_reader.h"
#include "score_table.h"

namespace dosim::cli {
namespace {

int score_external(const ScoreOptions& options, const TraceForScoring& trace) {
  const bool from_scores = !options.scores_path.empty();
  const std::string& path = from_scores ? options.scores_path : options.alerts_path;
  std::vector<std::string> detectors;  // a scores file's, those that never alert included
  const std::vector<Alert> alerts =
      from_scores ? alerts_from_scores_file(path, trace, options.threshold, &detectors)
                  : read_alerts_file(path, trace);
  const ScoreTable table = score_external_alerts(trace, alerts, detectors);
  if (options.json) {
    auto out = nlohmann::ordered_json::parse(score_table_json(table));
    out["source"] = {{from_scores ? "scores" : "alerts", path}};
    if (from_scores) out["source"]["threshold"] = options.threshold;
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  const char* plural = alerts.size() == 1 ? "" : "s";
  if (from_scores)
    std::printf("dosim score: %s: %zu alert%s from the scores at threshold %g (score >= it)\n",
                path.c_str(), alerts.size(), plural, options.threshold);
  else
    std::printf("dosim score: %s: %zu alert%s read\n", path.c_str(), alerts.size(), plural);
  std::printf("  against %s (seed %llu)%s\n", options.trace_path.c_str(),
              static_cast<unsigned long long>(trace.seed), trace.complete ? "" : "  [INCOMPLETE]");
  print_score_table(table);
  return kExitOk;
}

// The incidents each of the trace's alerts matched, as the run matched them.
std::vector<std::vector<std::int64_t>> alert_matches(const TraceForScoring& trace) {
  return score(trace.incidents, trace.alerts, trace.simulated, {.tolerance = 0, .tick = trace.tick})
      .alert_matches;
}

}  // namespace

// The JSON of root-cause scores (docs/rca.md), as the library writes them.
nlohmann::ordered_json rca_json(const std::vector<RcaScores>& scores) {
  return nlohmann::ordered_json::parse(rca_scores_json(scores));
}

// Rankings from elsewhere against the trace's ground truth.
int score_rca(const ScoreOptions& options, const TraceForScoring& trace) {
  const std::vector<RcaRanking> rankings =
      read_rankings_file(options.rca_path, trace.system, trace.incidents, options.trace_path);
  // The cases: the incidents an alert detected (an unranked one is a miss).
  std::vector<std::int64_t> detected;
  for (const std::vector<std::int64_t>& matched : alert_matches(trace))
    detected.insert(detected.end(), matched.begin(), matched.end());
  const std::vector<RcaScores> scores =
      score_rankings(rankings, trace.incidents, trace.system, detected);
  if (options.json) {
    std::cout << nlohmann::ordered_json{{"rca", rca_json(scores)}}.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("dosim score: %s: %zu rankings read, against %s (seed %llu)\n",
              options.rca_path.c_str(), rankings.size(), options.trace_path.c_str(),
              static_cast<unsigned long long>(trace.seed));
  if (scores.empty()) std::printf("  no ranking of a scored (non-silent) incident\n");
  print_rca_scores(scores);
  return kExitOk;
}

int score_command(const ScoreOptions& options) {
  const TraceForScoring trace = read_trace_for_scoring(options.trace_path);
  if (!options.rca_path.empty()) return score_rca(options, trace);
  if (!options.alerts_path.empty() || !options.scores_path.empty())
    return score_external(options, trace);
  const ScoreTable table =
      score_table(trace.incidents, trace.alerts, trace.detectors, trace.detected,
                  trace.services.size(), trace.seed, trace.simulated, trace.tick);
  if (options.json) {
    auto out = nlohmann::ordered_json::parse(score_table_json(table));
    const NotificationScores notified =
        notification_scores(trace.incidents, alert_matches(trace), trace.first_notified);
    nlohmann::ordered_json receivers = nlohmann::ordered_json::object();
    for (const auto& [name, count] : trace.receivers) receivers[name] = count;
    out["alertmanager"] = {
        {"raw_alerts", trace.raw_alerts},
        {"notifications", trace.notifications},
        {"resolutions", trace.resolutions},
        {"alert_reduction",
         alert_reduction(trace.notifications - trace.resolutions, trace.raw_alerts)},
        {"inhibited", trace.inhibited},
        {"deduplicated", trace.deduplicated},
        {"receivers", receivers},
        {"notified_incidents", notified.notified_incidents},
        {"notification_recall", notified.recall},
        {"time_to_notify_p50_s",
         notified.time_to_notify.count ? exact_seconds(notified.time_to_notify.median) : -1.0},
        {"time_to_notify_p90_s",
         notified.time_to_notify.count ? exact_seconds(notified.time_to_notify.p90) : -1.0}};
    nlohmann::ordered_json per_incident = nlohmann::ordered_json::array();
    for (const auto& [id, delay] : notified.by_incident)
      per_incident.push_back(
          {{"incident_id", id}, {"time_to_notify_s", delay < 0 ? -1.0 : exact_seconds(delay)}});
    out["alertmanager"]["incidents"] = per_incident;
    out["rca"] = rca_json(score_rankings(trace.rca, trace.incidents, trace.system));
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("dosim score: %s (seed %llu)%s\n", options.trace_path.c_str(),
                static_cast<unsigned long long>(trace.seed),
                trace.complete ? "" : "  [INCOMPLETE]");
    print_alertmanager_lines(
        {trace.raw_alerts, trace.notifications, trace.inhibited, trace.deduplicated,
         trace.resolutions, trace.receivers,
         notification_scores(trace.incidents, alert_matches(trace), trace.first_notified)});
    print_incident_rule_scores(table);
    print_score_table(table);
    print_rca_scores(score_rankings(trace.rca, trace.incidents, trace.system));
  }
  return kExitOk;
}

}  // namespace dosim::cli

// `dosim score TRACE.h5 [--json]`: the score table recomputed from a trace alone.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dosim/analysis/score_table.h"
#include "dosim/analysis/trace_reader.h"
#include "score_table.h"

namespace dosim::cli {

int score_command(const std::string& trace_path, bool json) {
  const TraceForScoring trace = read_trace_for_scoring(trace_path);
  const ScoreTable table =
      score_table(trace.incidents, trace.alerts, trace.detectors, trace.detected,
                  trace.services.size(), trace.seed, trace.simulated, trace.tick);
  if (json) {
    auto out = nlohmann::ordered_json::parse(score_table_json(table));
    out["alertmanager"] = {
        {"raw_alerts", trace.raw_alerts},
        {"notifications", trace.notifications},
        {"alert_reduction", alert_reduction(trace.notifications, trace.raw_alerts)},
        {"inhibited", trace.inhibited},
        {"deduplicated", trace.deduplicated}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::printf("dosim score: %s (seed %llu)%s\n", trace_path.c_str(),
                static_cast<unsigned long long>(trace.seed),
                trace.complete ? "" : "  [INCOMPLETE]");
    print_alertmanager_line(trace.raw_alerts, trace.notifications, trace.inhibited,
                            trace.deduplicated);
    print_incident_rule_scores(table);
    print_score_table(table);
  }
  return kExitOk;
}

}  // namespace dosim::cli

// `dosim score TRACE.h5 [--json]`: the score table recomputed from a trace alone.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "dosim/analysis/scoring.h"
#include "dosim/analysis/trace_reader.h"
#include "commands.h"
#include "dosim/error.h"
#include "score_table.h"

namespace dosim::cli {

int score_command(const std::string& trace_path, bool json) {
  try {
    const TraceForScoring trace = read_trace_for_scoring(trace_path);
    if (json) {
      auto out = nlohmann::ordered_json::parse(
          score_table_json(trace.incidents, trace.alerts, trace.detectors, trace.services.size(),
                           trace.seed, trace.simulated, trace.tick));
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
      print_incident_rule_scores(trace.incidents, trace.detected, trace.simulated, trace.tick);
      print_score_table(trace.incidents, trace.alerts, trace.detectors, trace.services.size(),
                        trace.seed, trace.simulated, trace.tick);
    }
    return kExitOk;
  } catch (const InputError& error) {
    print_input_error(error);
    return kExitBadInput;
  }
}

}  // namespace dosim::cli

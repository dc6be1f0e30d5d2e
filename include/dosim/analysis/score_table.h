// The score table a run ends with (`dosim run`, `dosim score`, RunReport::scores()): each
// detector, all of them together, a random and a null baseline beside them, and the
// incident rules' detected incidents scored on time alone (docs/scoring.md). Also the one
// JSON form of scores that every front end writes (run, score, bench).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dosim/alert.h"
#include "dosim/analysis/scoring.h"
#include "dosim/engine/incident.h"

namespace dosim {

struct ScoreTable {
  // incidents: those begun before the run ended (an interrupted run keeps the rest, silent).
  std::size_t incidents = 0, alerts = 0;
  // One row per detector (in the order given), then "all detectors", "random baseline" and
  // "null baseline".
  std::vector<std::pair<std::string, Scores>> rows;
  // One row per incident rule: `rules` in their order, then any other that declared an
  // incident, in the order they first did.
  std::vector<std::pair<std::string, Scores>> incident_rules;
};

// `services`: how many services the random baseline draws from; `seed` its stream. `rules`:
// the run's incident rules, each with its row even when it declared nothing (a trace keeps
// only the incidents declared: reading one, leave it empty).
ScoreTable score_table(const std::vector<IncidentRecord>& incidents,
                       const std::vector<Alert>& alerts, const std::vector<std::string>& detectors,
                       const std::vector<DetectedIncident>& detected, std::size_t services,
                       std::uint64_t seed, SimTime simulated, SimTime tick,
                       const std::vector<std::string>& rules = {});

// The JSON object of one Scores (keys: docs/scoring.md, "JSON"), as text.
std::string scores_json(const Scores& scores, int indent = -1);

// The table as JSON: {"incidents", "alerts", "scores": {row: scores_json}, "incident_rules"}.
std::string score_table_json(const ScoreTable& table, int indent = 2);

}  // namespace dosim

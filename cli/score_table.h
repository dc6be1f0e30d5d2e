// The score table that `dosim run` ends with and `dosim score` prints: each detector, all
// of them together, and a random and a null baseline beside them (docs/scoring.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dosim/alert.h"
#include "dosim/engine/incident.h"

namespace dosim::cli {

void print_score_table(const std::vector<IncidentRecord>& incidents,
                       const std::vector<Alert>& alerts, const std::vector<std::string>& detectors,
                       std::size_t services, std::uint64_t seed, SimTime simulated, SimTime tick);

// Scores of the incidents the incident rules detected (each an alert about the whole
// system at the time it opened, matched on time alone), one row per rule. Prints nothing
// when there are none.
void print_incident_rule_scores(const std::vector<IncidentRecord>& incidents,
                                const std::vector<Alert>& detected, SimTime simulated,
                                SimTime tick);

// The alert pipeline's line: raw alerts, notifications, alert reduction, inhibited and
// deduplicated alerts.
void print_alertmanager_line(std::size_t raw_alerts, std::size_t notifications,
                             std::size_t inhibited, std::size_t deduplicated);

// The same scores as JSON (one object: per detector, all, the baselines).
std::string score_table_json(const std::vector<IncidentRecord>& incidents,
                             const std::vector<Alert>& alerts,
                             const std::vector<std::string>& detectors, std::size_t services,
                             std::uint64_t seed, SimTime simulated, SimTime tick);

}  // namespace dosim::cli

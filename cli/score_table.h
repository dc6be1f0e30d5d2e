// The score table that `dosim run` ends with and `dosim score` prints: each detector, all
// of them together, and a random and a null baseline beside them (docs/scoring.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dosim/analysis/root_cause.h"
#include "dosim/analysis/score_table.h"
#include "dosim/run.h"

namespace dosim::cli {

// The score table: each detector, all together, the baselines.
void print_score_table(const ScoreTable& table);

// Scores of the incidents the incident rules detected (each an alert about the whole
// system at the time it opened, matched on time alone), one row per rule. Prints nothing
// when there are none.
void print_incident_rule_scores(const ScoreTable& table);

// What the alert pipeline delivered, for the alertmanager lines.
struct AlertmanagerSummary {
  std::size_t raw_alerts = 0, notifications = 0, inhibited = 0, deduplicated = 0;
  std::size_t resolutions = 0;  // of the notifications, those for resolved alerts alone
  std::vector<std::pair<std::string, std::size_t>> receivers;  // notifications per receiver
  NotificationScores scores;
};

// The alert pipeline's lines: raw alerts, notifications (and how many of them were for
// resolved alerts alone), alert reduction (of the others), inhibited and deduplicated alerts; notifications per receiver; incidents notified and the time to the
// first notification.
void print_alertmanager_lines(const AlertmanagerSummary& summary);

// The root-cause rankers' AC@1, AC@3, AC@5 and Avg@5 per detection delay, and AC@3 counting
// candidates on the propagation path (docs/rca.md). Prints nothing without cases.
void print_rca_scores(const std::vector<RcaScores>& scores);

// What the playbooks did and achieved: actions, escalations, incidents mitigated, time to
// acknowledge and to mitigate (docs/remediation.md).
void print_remediation(const RemediationScores& scores);

}  // namespace dosim::cli

// A team's Prometheus alerting rules against a run's ground truth (`dosim rules score`,
// docs/prometheus.md): the rule file's alerting rules, and Prometheus's alert states over a
// rule's evaluations (pending for `for`, then firing until the expression stops returning
// the label set). The expressions themselves are evaluated by the real Prometheus over the
// run's backfilled series (cli/rules_command.cc); this file holds what is checked without
// one.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dosim/analysis/label_template.h"
#include "dosim/engine/sim_time.h"

namespace dosim {

struct AlertingRule {
  std::string group;
  std::string name;  // `alert:`
  int line = 0, column = 0;  // where its `alert:` name stands in the file (1-based; 0: unknown)
  std::string expr;
  SimTime hold = 0;       // `for:`
  SimTime interval = 0;   // the group's `interval:`; 0: the caller's default
  std::size_t limit = 0;  // the group's `limit:`; 0: none
  // `labels:`, each value a template (label_template.h) expanded per series and evaluation.
  std::vector<std::pair<std::string, LabelTemplate>> labels;

  // True when a label's expansion depends on the sample's value.
  bool labels_use_value() const;
};

struct RecordingRule {
  std::string name;          // `record:`
  int line = 0, column = 0;  // where its `record:` name stands in the file (1-based; 0: unknown)
  std::string expr;
  SimTime interval = 0;  // the group's `interval:`; 0: the caller's default
};

struct RuleFile {
  std::vector<AlertingRule> alerts;
  std::size_t recording_rules = 0;
  std::vector<std::string> recorded;  // the recording rules' `record:` names
  std::vector<RecordingRule> recordings;  // those with a name and an expression
};

// Reads a Prometheus rule file (groups of alerting and recording rules). Throws InputError
// at FILE:LINE:COL for what it cannot read, a label template outside the subset dosim
// expands included; `promtool check rules` is the full check.
RuleFile read_rule_file(const std::string& path);

// Prometheus's duration syntax (1h30m, 5m, 30s, 250ms, 1d, 1w, 1y, and a bare 0); nullopt-like
// -1 when it is not one.
SimTime parse_prometheus_duration(const std::string& text);

// The labels of the alert `rule` makes of one sample, as Prometheus builds them: the series'
// labels (`series`, `__name__` included, which the alert drops) with each of the rule's
// labels set to its expansion over the series' labels and `value` (an empty expansion
// removes the label), sorted by name. The alert's identity: a change of labels between
// evaluations is another alert.
RuleLabels alert_labels(const AlertingRule& rule, const RuleLabels& series, double value);

// One alert a rule fired: its label set (the expression's, with the rule's labels over
// them), when it started firing and when it resolved (-1: still firing at the end).
struct FiredAlert {
  std::string rule;
  RuleLabels labels;
  SimTime fired = 0;
  SimTime resolved = -1;
};

// Prometheus's states over evaluations at `times` (ascending): `present[k]` is true where
// the expression returned the label set at evaluation k. Active from its first evaluation
// returned; firing once active for at least `hold`; resolved at the first evaluation that
// does not return it (a pending alert is dropped then).
std::vector<std::pair<SimTime, SimTime>> firing_windows(const std::vector<SimTime>& times,
                                                        const std::vector<bool>& present,
                                                        SimTime hold);

// A group's `limit:` over an alerting rule's evaluations, as Prometheus applies it:
// `present[j][k]` is true where the expression returned alert j (a label set) at evaluation
// k. At an evaluation that returns more than `limit` (> 0) alerts Prometheus fails the
// evaluation ("exceeded limit of N with M alerts") and drops all the rule's alerts: firing
// ones end there, pending ones start again at the next evaluation that returns them. Clears
// those evaluations in `present` and returns them.
std::vector<std::size_t> apply_alert_limit(std::vector<std::vector<bool>>& present,
                                           std::size_t limit);

}  // namespace dosim

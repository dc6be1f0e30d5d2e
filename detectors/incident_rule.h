// The incident rule of the AIOps Lab 7: anomalies on several watched streams heat up an
// "incident temperature"; past a threshold, an incident is declared, Sev1 when every stream
// is hot, Sev2 when some are.
//
// Every `poll` the rule looks at each stream (a series one detector watches): if it was
// anomalous at least once since the last poll, its accumulator grows by that count of
// anomalous ticks; otherwise the accumulator shrinks by `decay`, never below 0. The
// temperature is the sum of the accumulators. An incident opens when the temperature
// exceeds `threshold` and closes when it falls back to it or below. While open, its
// severity is Sev1 if every stream's accumulator exceeds its stream threshold
// (`stream_threshold`, or its own: IncidentRuleSpec::stream_thresholds), else Sev2 if any
// does, else Sev3; the incident keeps the highest severity it reached (PagerDuty's
// meanings: Sev1 critical, all hands; Sev2 major; Sev3 minor, docs/detectors.md), and its
// timeline every change of the current one (opened, escalated, de-escalated, closed) with
// the temperature and each stream's accumulator at that poll.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dosim/alert.h"
#include "dosim/engine/scenario.h"

namespace dosim {

class IncidentRule {
 public:
  // `streams`: the names of the watched series (the detector's, "<column>:<metric>").
  IncidentRule(IncidentRuleSpec spec, std::vector<std::string> streams);

  // The per-stream threshold keys of `spec` that name none of `streams` (neither a stream
  // nor a column of one).
  static std::vector<const IncidentRuleSpec::StreamThreshold*> unknown_keys(
      const IncidentRuleSpec& spec, const std::vector<std::string>& streams);

  // One tick: which streams are anomalous. Polls when `time` reaches the next poll.
  void observe(SimTime time, const std::vector<char>& anomalous);

  double temperature() const { return temperature_; }
  const std::vector<double>& accumulators() const { return accumulators_; }
  const std::vector<DetectedIncident>& incidents() const { return incidents_; }
  // Timeline entries so far over every incident (a cheap "did anything change" for readers).
  std::size_t changes() const { return changes_; }
  const IncidentRuleSpec& spec() const { return spec_; }

 private:
  void poll(SimTime time);

  IncidentRuleSpec spec_;
  std::vector<std::string> streams_;
  std::vector<std::int64_t> counts_;  // anomalous ticks since the last poll
  std::vector<double> accumulators_;
  std::vector<double> stream_thresholds_;  // per stream
  double temperature_ = 0;
  SimTime next_poll_;
  bool open_ = false;
  int current_severity_ = 3;  // of the open incident
  std::vector<DetectedIncident> incidents_;
  std::size_t changes_ = 0;
};

}  // namespace dosim

// What the alert pipeline produces, from the detectors to the scoring and the trace: alerts,
// the incidents the incident rules declared, and the notifications Alertmanager semantics
// let through (docs/detectors.md, docs/trace-format.md: /alerts, /incidents_detected,
// /notifications). Plain values; one type each from the detectors to the scores.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "dosim/engine/sim_time.h"

namespace dosim {

// The `service` of an alert about the system as a whole (an incident rule's incident).
inline constexpr int kWholeSystem = -2;

struct Alert {
  SimTime time = 0;       // when the alert fired
  std::string detector;   // detector that raised it
  int service = -1;       // index of the service it is about (into the scenario's services), or
                          // kWholeSystem for an incident rule's detected incident
  std::string metric;     // metric it is about
  std::string severity;   // e.g. "warning", "critical", "sev1"
  SimTime resolved = -1;  // when the condition cleared; -1 if still firing at the end
  std::string target;     // the series' column: the service, "caller->callee" or
                          // "service /endpoint"
};

// One moment of a detected incident's life, at a poll of its rule: it opened, its severity
// rose or fell, or it closed.
struct IncidentChange {
  SimTime time = 0;
  std::string what;  // "opened", "escalated", "de-escalated" or "closed"
  int severity = 3;  // from this moment on (at "closed": the last one)
  int previous = 0;  // before it (0 at "opened")
  double temperature = 0;
  std::vector<double> accumulators;  // each stream's, in the order of `streams`
};

// An incident an incident rule declared (detectors/incident_rule.h).
struct DetectedIncident {
  std::string rule;
  SimTime start = 0;  // the poll at which it opened
  SimTime end = -1;   // the poll at which it closed; -1 while open
  int severity = 3;   // 1, 2 or 3: the highest reached
  double peak_temperature = 0;
  std::vector<std::string> streams;      // the rule's streams: its detector's series names
  std::vector<IncidentChange> timeline;  // every change, in time order
};

// One notification that reached people.
struct Notification {
  SimTime time = 0;
  std::string group;       // "label=value,..." of the group_by labels
  std::size_t alerts = 0;  // firing alerts it carries
  std::string receiver;    // its route's receiver
  // Sent for resolved alerts alone (a receiver with send_resolved): it tells of no alert
  // firing that the last did not, and no repeat was due.
  bool resolution = false;
};

// What Alertmanager semantics made of a run's alerts.
struct AlertRouting {
  std::vector<Notification> notifications;
  // Per alert (as raised): the first notification that carried it while it fired; -1 when
  // none did (inhibited, a duplicate, resolved within its group's wait, or a re-firing of a
  // label set its group had notified, resolved before the group's next notification).
  std::vector<SimTime> first_notified;
  std::size_t raw_alerts = 0;
  std::size_t inhibited = 0;
  std::size_t deduplicated = 0;
};

// A detected incident scores as an alert about the whole system at the time it opened
// (detector: the rule, severity "sev<N>").
inline std::vector<Alert> detected_as_alerts(const std::vector<DetectedIncident>& detected) {
  std::vector<Alert> alerts;
  for (const DetectedIncident& d : detected)
    alerts.push_back(
        {d.start, d.rule, kWholeSystem, "", "sev" + std::to_string(d.severity), d.end, ""});
  return alerts;
}

}  // namespace dosim

// Scoring: what the detectors found, judged against the ground truth. Pure functions over
// the incidents (engine/incident.h) and the alerts (analysis/alert.h) as they appear in the
// trace; every formula and convention is in docs/scoring.md.
//
// Matching rule. An alert matches an incident when
//   - the incident is not silent (silent incidents are never scored),
//   - the alert's service is among the incident's affected services, and
//   - the alert fires inside [impact_start, impact_end + tolerance] (both ends included).
// An alert that matches no incident is a false alarm. An alert can match several
// overlapping incidents: it detects each of them (and counts towards each one's time to
// detect) but is still one matched alert for precision.
//
// Empty denominators take the vacuous value: precision = 1 with no alerts, recall = 1 with
// no scored incident, F1 = 0 when precision + recall = 0. Distributions use nearest-rank
// percentiles. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "dosim/alert.h"
#include "dosim/engine/incident.h"
#include "dosim/engine/sim_time.h"

namespace dosim {

struct ScoringOptions {
  // How long after impact_end an alert still counts as detecting the incident.
  SimTime tolerance = 0;
  // The run's tick: the NAB and range-based scores count rows of one tick.
  SimTime tick = kSecond;
};

// The time-only scores: a run is one series of rows of one tick; its anomaly windows are
// the scored incidents' [impact_start, impact_end + tolerance] in rows, merged where they
// overlap; an alert is about the rows from the one it fired in to the one before it resolved
// (to the end if it never did), wherever its service (docs/scoring.md).
struct TimeScores {
  // The NAB score normalized for this run alone, per profile (NAB's three, analysis/
  // nab_score.h): 100 is every window detected at its first row, 0 the null detector's.
  // 0 for a run without scored windows.
  double nab_standard = 0, nab_low_fp = 0, nab_low_fn = 0;
  // Range-based precision, recall (TimeEval's RANGE_PRECISION / RANGE_RECALL) and F1
  // (TimeEval's RANGE_F1, whose recall takes alpha 0.5), analysis/range_scores.h.
  double range_precision = 1, range_recall = 1, range_f1 = 0;
};

// A distribution of durations. `values` are sorted ascending. Percentiles are nearest-rank:
// the p-th percentile is values[ceil(p / 100 * count) - 1] (median = p50, so the lower of
// the two middle values for an even count). With count = 0, median = p90 = 0 and mean = 0:
// check `count` before reading them.
struct Distribution {
  std::size_t count = 0;
  SimTime median = 0;
  SimTime p90 = 0;
  double mean = 0.0;  // nanoseconds
  std::vector<SimTime> values;
};

// Builds a Distribution from any number of values (in any order).
Distribution make_distribution(std::vector<SimTime> values);

// Nearest-rank percentile of ascending `sorted` values, p in [0, 100]; 0 when empty.
SimTime nearest_rank_percentile(const std::vector<SimTime>& sorted, double p);

struct IncidentScore {
  std::int64_t id = 0;
  bool silent = true;              // not scored: never detected, no TTD or TTR
  bool detected = false;           // at least one alert matched it
  std::size_t matched_alerts = 0;  // how many alerts matched it
  SimTime first_alert = -1;        // time of the first matching alert, -1 if none
  SimTime time_to_detect = -1;     // first_alert - impact_start, -1 if not detected
  SimTime time_to_recover = -1;    // impact_end - impact_start, -1 if silent
};

struct Scores {
  std::vector<IncidentScore> incidents;  // one per incident, in the input order
  // Per alert (in the input order), the ids of the incidents it matched, ascending; empty
  // for a false alarm. The trace's /alerts/incident_id holds the first of them, or -1.
  std::vector<std::vector<std::int64_t>> alert_matches;

  std::size_t alerts = 0;              // all alerts
  std::size_t matched_alerts = 0;      // alerts that matched at least one incident
  std::size_t false_alarms = 0;        // alerts - matched_alerts
  std::size_t scored_incidents = 0;    // non-silent incidents
  std::size_t detected_incidents = 0;  // non-silent incidents with a matching alert
  std::size_t silent_incidents = 0;

  double precision = 1.0;  // matched_alerts / alerts; 1 with no alerts
  double recall = 1.0;     // detected_incidents / scored_incidents; 1 with none scored
  double f1 = 0.0;         // 2PR / (P + R); 0 when P + R = 0

  // Run span minus the union of [impact_start, impact_end + tolerance] over the scored
  // incidents, each clipped to [0, duration].
  SimTime fault_free_time = 0;
  // false_alarms per hour of fault_free_time; 0 with no false alarms, +infinity with false
  // alarms and no fault-free time.
  double false_alarms_per_hour = 0.0;

  Distribution time_to_detect;   // over detected incidents
  Distribution time_to_recover;  // over scored (non-silent) incidents, detected or not

  TimeScores time;  // NAB and range-based, on time alone
};

// Scores `alerts` against `incidents` over a run of `duration` (its span, from t = 0).
Scores score(const std::vector<IncidentRecord>& incidents, const std::vector<Alert>& alerts,
             SimTime duration, const ScoringOptions& options = {});

// Whether `alert` matches `incident` under the matching rule above.
bool alert_matches_incident(const Alert& alert, const IncidentRecord& incident,
                            const ScoringOptions& options);

// The indices [first, last) of `alerts` that may match `incident` (alert_matches_incident
// is false for every other): those inside its impact window when the alerts are in time
// order (`in_time_order`, as a run raises them), else all. So that matching costs the
// alerts near each incident, not alerts x incidents.
std::pair<std::size_t, std::size_t> alerts_near(const std::vector<Alert>& alerts,
                                                bool in_time_order, const IncidentRecord& incident,
                                                const ScoringOptions& options);
// Whether `alerts` are in non-decreasing time.
bool in_time_order(const std::vector<Alert>& alerts);

// 1 - notifications / raw_alerts: the share of raw alerts that grouping, deduplication and
// inhibition kept from reaching a person. 0 when there are no raw alerts.
double alert_reduction(std::size_t notifications, std::size_t raw_alerts);

// What reached people (docs/detectors.md, "Notifications"): of the scored incidents, those
// an alert matching them was carried to a receiver for, and how long after its impact began
// the first such notification went out. A 40-minute incident whose alerts all cleared
// within the group wait detected but notified no one.
struct NotificationScores {
  std::size_t scored_incidents = 0;
  std::size_t notified_incidents = 0;
  double recall = 1.0;          // notified / scored; 1 with none scored
  Distribution time_to_notify;  // first notification - impact start, over notified incidents
  // Per scored incident, in the input order: its id and its time to first notification
  // (-1: no notification reached anyone).
  std::vector<std::pair<std::int64_t, SimTime>> by_incident;
};

// `alert_matches[a]`: the incidents alert a matched (Scores::alert_matches);
// `first_notified[a]`: when a notification first carried it (-1: never; the trace's
// /alerts/notified_ns).
NotificationScores notification_scores(const std::vector<IncidentRecord>& incidents,
                                       const std::vector<std::vector<std::int64_t>>& alert_matches,
                                       const std::vector<SimTime>& first_notified);

// The random baseline's alerts: `count` alerts at uniformly random times in [0, duration)
// on uniformly random services drawn from `services`, from the counter-based stream
// (seed, entity_id("random-baseline"), Purpose::kScenario): alert i takes its time from draw
// 2i and its service from draw 2i + 1. Sorted by time (ties by i). Detector "random",
// metric "", severity "". Empty if `services` is empty or duration <= 0.
std::vector<Alert> random_baseline_alerts(std::uint64_t seed, std::size_t count, SimTime duration,
                                          const std::vector<int>& services);

inline constexpr std::string_view kRandomBaselineEntity = "random-baseline";

// The scored detector beside its two baselines: a null detector (no alerts) and a random
// detector with as many alerts as the scored one (the same overall rate), random alert i
// lasting as long as the scored detector's alert i (never resolving if that one did not).
struct ScoresWithBaselines {
  Scores detector;
  Scores null_baseline;
  Scores random_baseline;
};

ScoresWithBaselines score_with_baselines(const std::vector<IncidentRecord>& incidents,
                                         const std::vector<Alert>& alerts, SimTime duration,
                                         const std::vector<int>& services, std::uint64_t seed,
                                         const ScoringOptions& options = {});

}  // namespace dosim

// Scoring: see scoring.h and docs/scoring.md.
#include "dosim/analysis/scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "dosim/analysis/nab_score.h"
#include "dosim/analysis/range_scores.h"
#include "engine/rng.h"

namespace dosim {

namespace {

double ratio_or_one(std::size_t numerator, std::size_t denominator) {
  if (denominator == 0) return 1.0;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

// Total length of the union of the scored incidents' windows
// [impact_start, impact_end + tolerance], each clipped to [0, duration].
SimTime impacted_time(const std::vector<IncidentRecord>& incidents, SimTime duration,
                      SimTime tolerance) {
  std::vector<std::pair<SimTime, SimTime>> windows;
  for (const IncidentRecord& incident : incidents) {
    if (incident.silent) continue;
    const SimTime begin = std::max<SimTime>(incident.impact_start, 0);
    const SimTime end = std::min(incident.impact_end + tolerance, duration);
    if (end > begin) windows.emplace_back(begin, end);
  }
  std::sort(windows.begin(), windows.end());
  SimTime total = 0;
  SimTime covered_to = std::numeric_limits<SimTime>::min();
  for (const auto& [begin, end] : windows) {
    const SimTime from = std::max(begin, covered_to);
    if (end > from) total += end - from;
    covered_to = std::max(covered_to, end);
  }
  return total;
}

// The row of the tick that ends at `time` (frames carry the end of their tick), in [0, rows).
std::int64_t row_of(SimTime time, SimTime tick, std::int64_t rows) {
  return std::clamp<std::int64_t>((time + tick - 1) / tick - 1, 0, rows - 1);
}

TimeScores time_scores(const std::vector<IncidentRecord>& incidents,
                       const std::vector<Alert>& alerts, SimTime duration,
                       const ScoringOptions& options) {
  TimeScores out;
  const SimTime tick = std::max<SimTime>(options.tick, 1);
  const std::int64_t rows = (std::max<SimTime>(duration, 0) + tick - 1) / tick;
  if (rows <= 0) return out;
  // Impact windows: impact_start begins a tick, impact_end ends one.
  std::vector<NabWindow> windows;
  for (const IncidentRecord& incident : incidents) {
    if (incident.silent || incident.impact_start >= duration) continue;
    const std::int64_t first = std::clamp<std::int64_t>(incident.impact_start / tick, 0, rows - 1);
    const std::int64_t last = row_of(incident.impact_end + options.tolerance, tick, rows);
    windows.push_back(
        {static_cast<std::size_t>(first), static_cast<std::size_t>(std::max(first, last))});
  }
  windows = nab_merge_windows(std::move(windows));
  std::vector<std::size_t> detection_rows;
  std::vector<PointRange> predicted;
  for (const Alert& alert : alerts) {
    const std::int64_t first = row_of(alert.time, tick, rows);
    const std::int64_t last =
        alert.resolved < 0 ? rows - 1 : std::max(first, row_of(alert.resolved, tick, rows) - 1);
    detection_rows.push_back(static_cast<std::size_t>(first));
    predicted.push_back({first, last});
  }
  double* nab[] = {&out.nab_standard, &out.nab_low_fp, &out.nab_low_fn};
  const std::vector<NabProfile> profiles = nab_default_profiles();
  for (std::size_t p = 0; p < profiles.size(); ++p) {
    const NabFileScore s = nab_score_detection_rows(static_cast<std::size_t>(rows), windows,
                                                    detection_rows, profiles[p]);
    const double null_score = -profiles[p].fn_weight * static_cast<double>(s.windows_scored);
    const double perfect = profiles[p].tp_weight * static_cast<double>(s.windows_scored);
    *nab[p] = nab_normalized_score(s.score, null_score, perfect);
  }
  std::vector<PointRange> real;
  for (const NabWindow& w : windows)
    real.push_back({static_cast<std::int64_t>(w.first_row), static_cast<std::int64_t>(w.last_row)});
  out.range_precision = range_precision(real, predicted);
  out.range_recall = range_recall(real, predicted);
  out.range_f1 = range_f_score(real, predicted).f_score;
  return out;
}

}  // namespace

SimTime nearest_rank_percentile(const std::vector<SimTime>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  const double rank = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * n);
  const std::size_t index = rank < 1.0 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

Distribution make_distribution(std::vector<SimTime> values) {
  Distribution distribution;
  std::sort(values.begin(), values.end());
  distribution.count = values.size();
  if (!values.empty()) {
    distribution.median = nearest_rank_percentile(values, 50.0);
    distribution.p90 = nearest_rank_percentile(values, 90.0);
    double sum = 0.0;
    for (SimTime value : values) sum += static_cast<double>(value);
    distribution.mean = sum / static_cast<double>(values.size());
  }
  distribution.values = std::move(values);
  return distribution;
}

bool alert_matches_incident(const Alert& alert, const IncidentRecord& incident,
                            const ScoringOptions& options) {
  if (incident.silent) return false;
  if (alert.time < incident.impact_start || alert.time > incident.impact_end + options.tolerance)
    return false;
  if (alert.service == kWholeSystem) return true;  // an incident rule's: time alone
  return std::find(incident.affected.begin(), incident.affected.end(), alert.service) !=
         incident.affected.end();
}

bool in_time_order(const std::vector<Alert>& alerts) {
  return std::is_sorted(alerts.begin(), alerts.end(),
                        [](const Alert& a, const Alert& b) { return a.time < b.time; });
}

std::pair<std::size_t, std::size_t> alerts_near(const std::vector<Alert>& alerts,
                                                bool in_time_order, const IncidentRecord& incident,
                                                const ScoringOptions& options) {
  if (incident.silent) return {0, 0};
  if (!in_time_order) return {0, alerts.size()};
  const auto before = [](const Alert& alert, SimTime t) { return alert.time < t; };
  const auto first = std::lower_bound(alerts.begin(), alerts.end(), incident.impact_start, before);
  const auto last = std::upper_bound(first, alerts.end(), incident.impact_end + options.tolerance,
                                     [](SimTime t, const Alert& alert) { return t < alert.time; });
  return {static_cast<std::size_t>(first - alerts.begin()),
          static_cast<std::size_t>(last - alerts.begin())};
}

Scores score(const std::vector<IncidentRecord>& incidents, const std::vector<Alert>& alerts,
             SimTime duration, const ScoringOptions& options) {
  Scores scores;
  scores.alerts = alerts.size();
  scores.incidents.reserve(incidents.size());
  for (const IncidentRecord& incident : incidents) {
    IncidentScore entry;
    entry.id = incident.id;
    entry.silent = incident.silent;
    if (!incident.silent) entry.time_to_recover = incident.impact_end - incident.impact_start;
    scores.incidents.push_back(entry);
  }

  scores.alert_matches.resize(alerts.size());
  const bool ordered = in_time_order(alerts);
  for (std::size_t i = 0; i < incidents.size(); ++i) {
    const auto [first, last] = alerts_near(alerts, ordered, incidents[i], options);
    for (std::size_t a = first; a < last; ++a) {
      const Alert& alert = alerts[a];
      if (!alert_matches_incident(alert, incidents[i], options)) continue;
      scores.alert_matches[a].push_back(incidents[i].id);
      IncidentScore& entry = scores.incidents[i];
      ++entry.matched_alerts;
      if (!entry.detected || alert.time < entry.first_alert) entry.first_alert = alert.time;
      entry.detected = true;
    }
  }
  for (std::vector<std::int64_t>& matches : scores.alert_matches) {
    std::sort(matches.begin(), matches.end());
    if (!matches.empty()) ++scores.matched_alerts;
  }
  scores.false_alarms = scores.alerts - scores.matched_alerts;

  std::vector<SimTime> detect_times;
  std::vector<SimTime> recover_times;
  for (std::size_t i = 0; i < incidents.size(); ++i) {
    IncidentScore& entry = scores.incidents[i];
    if (entry.silent) {
      ++scores.silent_incidents;
      continue;
    }
    ++scores.scored_incidents;
    recover_times.push_back(entry.time_to_recover);
    if (entry.detected) {
      ++scores.detected_incidents;
      entry.time_to_detect = entry.first_alert - incidents[i].impact_start;
      detect_times.push_back(entry.time_to_detect);
    }
  }
  scores.time_to_detect = make_distribution(std::move(detect_times));
  scores.time_to_recover = make_distribution(std::move(recover_times));

  scores.precision = ratio_or_one(scores.matched_alerts, scores.alerts);
  scores.recall = ratio_or_one(scores.detected_incidents, scores.scored_incidents);
  const double sum = scores.precision + scores.recall;
  scores.f1 = sum > 0.0 ? 2.0 * scores.precision * scores.recall / sum : 0.0;

  const SimTime span = std::max<SimTime>(duration, 0);
  scores.fault_free_time = span - impacted_time(incidents, span, options.tolerance);
  if (scores.false_alarms == 0) {
    scores.false_alarms_per_hour = 0.0;
  } else if (scores.fault_free_time <= 0) {
    scores.false_alarms_per_hour = std::numeric_limits<double>::infinity();
  } else {
    scores.false_alarms_per_hour =
        static_cast<double>(scores.false_alarms) /
        (static_cast<double>(scores.fault_free_time) / static_cast<double>(kHour));
  }
  scores.time = time_scores(incidents, alerts, duration, options);
  return scores;
}

NotificationScores notification_scores(const std::vector<IncidentRecord>& incidents,
                                       const std::vector<std::vector<std::int64_t>>& alert_matches,
                                       const std::vector<SimTime>& first_notified) {
  std::map<std::int64_t, SimTime> first;  // incident id -> its first notification
  for (std::size_t a = 0; a < alert_matches.size() && a < first_notified.size(); ++a) {
    if (first_notified[a] < 0) continue;
    for (const std::int64_t id : alert_matches[a]) {
      const auto [it, added] = first.emplace(id, first_notified[a]);
      if (!added) it->second = std::min(it->second, first_notified[a]);
    }
  }
  NotificationScores out;
  std::vector<SimTime> delays;
  for (const IncidentRecord& incident : incidents) {
    if (incident.silent) continue;
    ++out.scored_incidents;
    const auto found = first.find(incident.id);
    if (found == first.end()) {
      out.by_incident.emplace_back(incident.id, -1);
      continue;
    }
    ++out.notified_incidents;
    delays.push_back(std::max<SimTime>(0, found->second - incident.impact_start));
    out.by_incident.emplace_back(incident.id, delays.back());
  }
  if (out.scored_incidents > 0)
    out.recall =
        static_cast<double>(out.notified_incidents) / static_cast<double>(out.scored_incidents);
  out.time_to_notify = make_distribution(std::move(delays));
  return out;
}

double alert_reduction(std::size_t notifications, std::size_t raw_alerts) {
  if (raw_alerts == 0) return 0.0;
  return 1.0 - static_cast<double>(notifications) / static_cast<double>(raw_alerts);
}

std::vector<Alert> random_baseline_alerts(std::uint64_t seed, std::size_t count, SimTime duration,
                                          const std::vector<int>& services) {
  std::vector<Alert> alerts;
  if (services.empty() || duration <= 0) return alerts;
  const RandomStream stream(seed, entity_id(kRandomBaselineEntity), Purpose::kScenario);
  alerts.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t index = 2 * static_cast<std::uint64_t>(i);
    Alert alert;
    const auto time = static_cast<SimTime>(stream.uniform(index) * static_cast<double>(duration));
    alert.time = std::min(time, duration - 1);
    const auto pick =
        static_cast<std::size_t>(stream.uniform(index + 1) * static_cast<double>(services.size()));
    alert.service = services[std::min(pick, services.size() - 1)];
    alert.detector = "random";
    alerts.push_back(std::move(alert));
  }
  std::stable_sort(alerts.begin(), alerts.end(),
                   [](const Alert& a, const Alert& b) { return a.time < b.time; });
  return alerts;
}

ScoresWithBaselines score_with_baselines(const std::vector<IncidentRecord>& incidents,
                                         const std::vector<Alert>& alerts, SimTime duration,
                                         const std::vector<int>& services, std::uint64_t seed,
                                         const ScoringOptions& options) {
  ScoresWithBaselines result;
  result.detector = score(incidents, alerts, duration, options);
  result.null_baseline = score(incidents, {}, duration, options);
  // Each random alert lasts as long as the detector's alert of the same index: the same rate
  // and the same alert time, for the range-based scores.
  std::vector<Alert> random = random_baseline_alerts(seed, alerts.size(), duration, services);
  for (std::size_t i = 0; i < random.size(); ++i)
    random[i].resolved =
        alerts[i].resolved < 0 ? -1 : random[i].time + (alerts[i].resolved - alerts[i].time);
  result.random_baseline = score(incidents, random, duration, options);
  return result;
}

}  // namespace dosim

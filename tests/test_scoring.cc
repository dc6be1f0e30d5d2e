// Scoring against hand-computed values: matching, time to detect and recover, precision,
// recall, F1, false alarms per hour of fault-free time, tolerance, overlapping and silent
// incidents, empty inputs, and the random baseline.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "dosim/alert.h"
#include "dosim/analysis/scoring.h"
#include "dosim/engine/incident.h"
#include "dosim/engine/sim_time.h"

using dosim::Alert;
using dosim::IncidentRecord;
using dosim::kHour;
using dosim::kMinute;
using dosim::ScoringOptions;
using dosim::SimTime;

namespace {

IncidentRecord incident(std::int64_t id, SimTime impact_start, SimTime impact_end,
                        std::vector<int> affected, bool silent = false) {
  IncidentRecord record;
  record.id = id;
  record.start = impact_start;
  record.end = impact_end;
  record.impact_start = impact_start;
  record.impact_end = impact_end;
  record.silent = silent;
  record.affected = std::move(affected);
  return record;
}

Alert alert(SimTime time, int service) {
  Alert result;
  result.time = time;
  result.detector = "hand";
  result.service = service;
  result.metric = "latency_p95_s";
  result.severity = "warning";
  return result;
}

// A 10-hour run: incident 0 on services 1 and 2 during [1h, 1h30m] (detected), incident 1
// silent (its window and services are filled in to show that the silent flag alone
// excludes it), incident 2 on service 3 during [5h, 6h] (never detected).
std::vector<IncidentRecord> ground_truth() {
  return {incident(0, 1 * kHour, 1 * kHour + 30 * kMinute, {1, 2}),
          incident(1, 3 * kHour, 3 * kHour + 10 * kMinute, {0}, /*silent=*/true),
          incident(2, 5 * kHour, 6 * kHour, {3})};
}

const SimTime kRun = 10 * kHour;

std::vector<Alert> hand_alerts() {
  return {
      alert(1 * kHour + 10 * kMinute, 2),  // 0: matches incident 0
      alert(1 * kHour + 5 * kMinute, 1),   // 1: matches incident 0, the first to do so
      alert(1 * kHour + 20 * kMinute, 5),  // 2: service 5 not affected: false alarm
      alert(1 * kHour + 35 * kMinute, 1),  // 3: 5 min after impact_end: within 10 min only
      alert(5 * kHour + 30 * kMinute, 1),  // 4: incident 2 affects service 3 only
      alert(3 * kHour + 5 * kMinute, 0),   // 5: inside the silent incident: false alarm
      alert(8 * kHour, 3),                 // 6: long after incident 2: false alarm
      alert(30 * kMinute, 1),              // 7: before incident 0: false alarm
  };
}

}  // namespace

TEST_CASE("Scoring matches alerts to incidents by service and impact window", "[scoring]") {
  const auto scores = dosim::score(ground_truth(), hand_alerts(), kRun);

  REQUIRE(scores.alerts == 8);
  REQUIRE(scores.matched_alerts == 2);
  REQUIRE(scores.false_alarms == 6);
  REQUIRE(scores.scored_incidents == 2);
  REQUIRE(scores.silent_incidents == 1);
  REQUIRE(scores.detected_incidents == 1);
  REQUIRE(scores.alert_matches.size() == 8);
  CHECK(scores.alert_matches[0] == std::vector<std::int64_t>{0});
  CHECK(scores.alert_matches[1] == std::vector<std::int64_t>{0});
  for (std::size_t a = 2; a < 8; ++a) CHECK(scores.alert_matches[a].empty());

  REQUIRE(scores.incidents.size() == 3);
  const auto& first = scores.incidents[0];
  CHECK(first.id == 0);
  CHECK(first.detected);
  CHECK(first.matched_alerts == 2);
  CHECK(first.first_alert == 1 * kHour + 5 * kMinute);
  CHECK(first.time_to_detect == 5 * kMinute);
  CHECK(first.time_to_recover == 30 * kMinute);

  const auto& silent = scores.incidents[1];
  CHECK(silent.silent);
  CHECK_FALSE(silent.detected);
  CHECK(silent.matched_alerts == 0);
  CHECK(silent.time_to_detect == -1);
  CHECK(silent.time_to_recover == -1);

  const auto& missed = scores.incidents[2];
  CHECK_FALSE(missed.silent);
  CHECK_FALSE(missed.detected);
  CHECK(missed.first_alert == -1);
  CHECK(missed.time_to_detect == -1);
  CHECK(missed.time_to_recover == 1 * kHour);
}

TEST_CASE("Scoring computes precision, recall, F1 and false alarms per hour", "[scoring]") {
  const auto scores = dosim::score(ground_truth(), hand_alerts(), kRun);

  CHECK(scores.precision == Approx(2.0 / 8.0));
  CHECK(scores.recall == Approx(1.0 / 2.0));
  // 2PR / (P + R) = 2 * 0.25 * 0.5 / 0.75
  CHECK(scores.f1 == Approx(1.0 / 3.0));
  // 10 h minus the scored windows (30 min + 1 h); the silent incident's window does not count.
  CHECK(scores.fault_free_time == 8 * kHour + 30 * kMinute);
  CHECK(scores.false_alarms_per_hour == Approx(6.0 / 8.5));
}

TEST_CASE("Scoring reports time to detect and recover as distributions", "[scoring]") {
  const auto scores = dosim::score(ground_truth(), hand_alerts(), kRun);

  CHECK(scores.time_to_detect.count == 1);
  CHECK(scores.time_to_detect.values == std::vector<SimTime>{5 * kMinute});
  CHECK(scores.time_to_detect.median == 5 * kMinute);
  CHECK(scores.time_to_detect.p90 == 5 * kMinute);
  CHECK(scores.time_to_detect.mean == Approx(static_cast<double>(5 * kMinute)));

  // Over the scored incidents, the undetected one included.
  CHECK(scores.time_to_recover.count == 2);
  CHECK(scores.time_to_recover.values == std::vector<SimTime>{30 * kMinute, 1 * kHour});
  CHECK(scores.time_to_recover.median == 30 * kMinute);  // rank ceil(0.5 * 2) = 1
  CHECK(scores.time_to_recover.p90 == 1 * kHour);        // rank ceil(0.9 * 2) = 2
  CHECK(scores.time_to_recover.mean == Approx(static_cast<double>(45 * kMinute)));
}

TEST_CASE("Distributions use nearest-rank percentiles", "[scoring]") {
  const auto ten = dosim::make_distribution({7, 1, 3, 10, 5, 2, 9, 4, 8, 6});
  CHECK(ten.count == 10);
  CHECK(ten.values == std::vector<SimTime>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(ten.median == 5);  // rank 5
  CHECK(ten.p90 == 9);     // rank 9
  CHECK(ten.mean == Approx(5.5));

  const auto three = dosim::make_distribution({3, 1, 2});
  CHECK(three.median == 2);  // rank ceil(1.5) = 2
  CHECK(three.p90 == 3);     // rank ceil(2.7) = 3
  CHECK(three.mean == Approx(2.0));

  const auto one = dosim::make_distribution({4});
  CHECK(one.median == 4);
  CHECK(one.p90 == 4);

  const auto none = dosim::make_distribution({});
  CHECK(none.count == 0);
  CHECK(none.median == 0);
  CHECK(none.p90 == 0);
  CHECK(none.mean == 0.0);
  CHECK(none.values.empty());

  CHECK(dosim::nearest_rank_percentile({1, 2, 3}, 0.0) == 1);
  CHECK(dosim::nearest_rank_percentile({1, 2, 3}, 100.0) == 3);
}

TEST_CASE("Scoring tolerance extends impact windows past their end", "[scoring]") {
  ScoringOptions options;
  options.tolerance = 10 * kMinute;
  const auto scores = dosim::score(ground_truth(), hand_alerts(), kRun, options);

  CHECK(scores.matched_alerts == 3);  // alert 3, 5 min after impact_end, now matches
  CHECK(scores.alert_matches[3] == std::vector<std::int64_t>{0});
  CHECK(scores.alert_matches[6].empty());  // 2 h after incident 2: still a false alarm
  CHECK(scores.false_alarms == 5);
  CHECK(scores.incidents[0].matched_alerts == 3);
  CHECK(scores.incidents[0].time_to_detect == 5 * kMinute);
  CHECK(scores.incidents[0].time_to_recover == 30 * kMinute);  // tolerance does not stretch it
  CHECK(scores.precision == Approx(3.0 / 8.0));
  CHECK(scores.recall == Approx(0.5));
  CHECK(scores.f1 == Approx(3.0 / 7.0));  // 2 * 0.375 * 0.5 / 0.875
  // 10 h minus (30 + 10) min and (60 + 10) min.
  CHECK(scores.fault_free_time == 10 * kHour - 110 * kMinute);
  CHECK(scores.false_alarms_per_hour == Approx(5.0 / (490.0 / 60.0)));

  // An alert exactly at either end of the window matches; one nanosecond later does not.
  const auto record = ground_truth()[0];
  CHECK(dosim::alert_matches_incident(alert(record.impact_start, 1), record, {}));
  CHECK(dosim::alert_matches_incident(alert(record.impact_end, 1), record, {}));
  CHECK_FALSE(dosim::alert_matches_incident(alert(record.impact_end + 1, 1), record, {}));
  CHECK_FALSE(dosim::alert_matches_incident(alert(record.impact_start - 1, 1), record, {}));
  CHECK(dosim::alert_matches_incident(alert(record.impact_end + 10 * kMinute, 1), record, options));
  CHECK_FALSE(dosim::alert_matches_incident(alert(record.impact_end + 10 * kMinute + 1, 1), record,
                                            options));
}

TEST_CASE("An alert counts for every overlapping incident it matches", "[scoring]") {
  const std::vector<IncidentRecord> incidents = {
      incident(0, 1 * kHour, 2 * kHour, {1}),
      incident(1, 1 * kHour + 30 * kMinute, 3 * kHour, {1, 2}),
  };
  const std::vector<Alert> alerts = {
      alert(1 * kHour + 45 * kMinute, 1),  // both incidents
      alert(2 * kHour + 30 * kMinute, 2),  // incident 1 only
      alert(1 * kHour + 10 * kMinute, 2),  // incident 1 has not started: false alarm
  };
  const auto scores = dosim::score(incidents, alerts, 4 * kHour);

  CHECK(scores.alert_matches[0] == std::vector<std::int64_t>{0, 1});
  CHECK(scores.alert_matches[1] == std::vector<std::int64_t>{1});
  CHECK(scores.alert_matches[2].empty());
  CHECK(scores.matched_alerts == 2);  // one alert matching two incidents is one alert
  CHECK(scores.precision == Approx(2.0 / 3.0));
  CHECK(scores.recall == 1.0);
  CHECK(scores.f1 == Approx(0.8));
  CHECK(scores.incidents[0].time_to_detect == 45 * kMinute);
  CHECK(scores.incidents[1].time_to_detect == 15 * kMinute);
  CHECK(scores.incidents[1].matched_alerts == 2);
  CHECK(scores.time_to_detect.values == std::vector<SimTime>{15 * kMinute, 45 * kMinute});
  CHECK(scores.time_to_detect.median == 15 * kMinute);
  CHECK(scores.time_to_detect.p90 == 45 * kMinute);
  CHECK(scores.time_to_detect.mean == Approx(static_cast<double>(30 * kMinute)));
  // The overlapping windows are counted once: [1 h, 3 h] of a 4 h run.
  CHECK(scores.fault_free_time == 2 * kHour);
  CHECK(scores.false_alarms_per_hour == Approx(0.5));
}

TEST_CASE("Scoring without alerts or without incidents is defined", "[scoring]") {
  SECTION("no alerts: precision 1 (vacuous), recall 0") {
    const auto scores = dosim::score(ground_truth(), {}, kRun);
    CHECK(scores.alerts == 0);
    CHECK(scores.precision == 1.0);
    CHECK(scores.recall == 0.0);
    CHECK(scores.f1 == 0.0);
    CHECK(scores.false_alarms_per_hour == 0.0);
    CHECK(scores.time_to_detect.count == 0);
    CHECK(scores.time_to_recover.count == 2);
  }
  SECTION("no incidents: recall 1 (vacuous), every alert a false alarm") {
    const auto scores = dosim::score({}, hand_alerts(), kRun);
    CHECK(scores.precision == 0.0);
    CHECK(scores.recall == 1.0);
    CHECK(scores.f1 == 0.0);
    CHECK(scores.fault_free_time == kRun);
    CHECK(scores.false_alarms_per_hour == Approx(0.8));
    CHECK(scores.time_to_recover.count == 0);
  }
  SECTION("neither: a quiet detector on a quiet run is right") {
    const auto scores = dosim::score({}, {}, kRun);
    CHECK(scores.precision == 1.0);
    CHECK(scores.recall == 1.0);
    CHECK(scores.f1 == 1.0);
    CHECK(scores.false_alarms_per_hour == 0.0);
  }
  SECTION("only silent incidents: nothing to detect") {
    const auto scores =
        dosim::score({ground_truth()[1]}, {alert(3 * kHour + 5 * kMinute, 0)}, kRun);
    CHECK(scores.scored_incidents == 0);
    CHECK(scores.silent_incidents == 1);
    CHECK(scores.recall == 1.0);
    CHECK(scores.precision == 0.0);
    CHECK(scores.fault_free_time == kRun);
  }
  SECTION("no fault-free time: false alarms per hour is infinite, or 0 without any") {
    const std::vector<IncidentRecord> whole_run = {incident(0, 0, kRun, {1})};
    const auto noisy = dosim::score(whole_run, {alert(kHour, 2)}, kRun);
    CHECK(noisy.fault_free_time == 0);
    CHECK(noisy.false_alarms_per_hour == std::numeric_limits<double>::infinity());
    const auto quiet = dosim::score(whole_run, {alert(kHour, 1)}, kRun);
    CHECK(quiet.false_alarms_per_hour == 0.0);
  }
  SECTION("windows extended by tolerance are clipped to the run") {
    ScoringOptions options;
    options.tolerance = 2 * kHour;
    const std::vector<IncidentRecord> late = {
        incident(0, 9 * kHour, 9 * kHour + 30 * kMinute, {1})};
    CHECK(dosim::score(late, {}, kRun, options).fault_free_time == 9 * kHour);
  }
}

TEST_CASE("Alert reduction compares notifications with raw alerts", "[scoring]") {
  CHECK(dosim::alert_reduction(25, 100) == Approx(0.75));
  CHECK(dosim::alert_reduction(100, 100) == 0.0);
  CHECK(dosim::alert_reduction(0, 40) == 1.0);
  CHECK(dosim::alert_reduction(0, 0) == 0.0);
}

TEST_CASE("The random baseline is deterministic and fires as often as asked", "[scoring]") {
  const std::vector<int> services = {0, 2, 5};
  const auto alerts = dosim::random_baseline_alerts(42, 1000, kRun, services);
  REQUIRE(alerts.size() == 1000);

  const auto again = dosim::random_baseline_alerts(42, 1000, kRun, services);
  REQUIRE(again.size() == alerts.size());
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    CHECK(again[i].time == alerts[i].time);
    CHECK(again[i].service == alerts[i].service);
  }

  std::set<int> seen;
  for (const Alert& a : alerts) {
    CHECK(a.time >= 0);
    CHECK(a.time < kRun);
    CHECK(a.detector == "random");
    seen.insert(a.service);
  }
  CHECK(seen == std::set<int>(services.begin(), services.end()));
  CHECK(std::is_sorted(alerts.begin(), alerts.end(),
                       [](const Alert& a, const Alert& b) { return a.time < b.time; }));
  // Uniform over the run: about half of them in each half.
  const auto early =
      std::count_if(alerts.begin(), alerts.end(), [](const Alert& a) { return a.time < kRun / 2; });
  CHECK(early > 400);
  CHECK(early < 600);

  const auto other = dosim::random_baseline_alerts(43, 1000, kRun, services);
  bool differs = false;
  for (std::size_t i = 0; i < alerts.size(); ++i)
    differs = differs || other[i].time != alerts[i].time;
  CHECK(differs);

  CHECK(dosim::random_baseline_alerts(42, 0, kRun, services).empty());
  CHECK(dosim::random_baseline_alerts(42, 10, kRun, {}).empty());
  CHECK(dosim::random_baseline_alerts(42, 10, 0, services).empty());
}

TEST_CASE("Scores come with a null and a random baseline", "[scoring]") {
  const std::vector<int> services = {0, 1, 2, 3, 4, 5};
  const auto result = dosim::score_with_baselines(ground_truth(), hand_alerts(), kRun, services, 7);
  CHECK(result.detector.precision == Approx(0.25));
  CHECK(result.null_baseline.alerts == 0);
  CHECK(result.null_baseline.recall == 0.0);
  CHECK(result.null_baseline.precision == 1.0);
  CHECK(result.random_baseline.alerts == 8);
  const auto expected =
      dosim::score(ground_truth(), dosim::random_baseline_alerts(7, 8, kRun, services), kRun);
  CHECK(result.random_baseline.matched_alerts == expected.matched_alerts);
  CHECK(result.random_baseline.alert_matches == expected.alert_matches);
}

TEST_CASE("an alert about the whole system matches on time alone", "[scoring]") {
  const IncidentRecord truth = incident(0, 60 * kMinute, 90 * kMinute, {1, 2});
  Alert system_wide = alert(70 * kMinute, dosim::kWholeSystem);
  CHECK(dosim::alert_matches_incident(system_wide, truth, {}));
  CHECK_FALSE(dosim::alert_matches_incident(alert(70 * kMinute, 5), truth, {}));
  system_wide.time = 95 * kMinute;
  CHECK_FALSE(dosim::alert_matches_incident(system_wide, truth, {}));
}

// The time-only scores of a 100 s run at 1 s ticks (100 rows; NAB's probation is
// min(floor(0.15 x 100), 750) = 15 rows). One incident with impact 40 s..50 s: rows 40..49
// (a frame at time t ends the tick of row t/1s - 1). Alert A fires at 42 s (row 41) and
// resolves at 45 s (rows 41..43); alert B, on a service the incident did not touch, fires at
// 70 s (row 69) and resolves at 72 s (rows 69..70). NAB and the ranges look at time alone.
TEST_CASE("NAB and range-based scores of a run, by hand", "[scoring]") {
  using dosim::kSecond;
  const std::vector<IncidentRecord> incidents = {incident(0, 40 * kSecond, 50 * kSecond, {1})};
  Alert a = alert(42 * kSecond, 1);
  a.resolved = 45 * kSecond;
  Alert b = alert(70 * kSecond, 3);
  b.resolved = 72 * kSecond;
  const dosim::Scores s =
      dosim::score(incidents, {a, b}, 100 * kSecond, {.tolerance = 0, .tick = kSecond});

  // NAB's scaled sigmoid. A: row 41 of the window 40..49 (width 10) is at relative position
  // -(49 - 41 + 1) / 10 = -0.9 and earns A_TP sigma(-0.9) / sigma(-1). B: 20 rows past the
  // window's end, relative distance 20 / (10 - 1), costs A_FP sigma(20/9) (about -A_FP).
  const auto sigma = [](double x) { return 2.0 / (1.0 + std::exp(5.0 * x)) - 1.0; };
  const double tp = sigma(-0.9) / sigma(-1.0);
  const double fp = sigma(20.0 / 9.0);
  // standard (A_TP 1, A_FP 0.11, A_FN 1): null = -1, perfect = 1.
  CHECK(s.time.nab_standard == Approx(100.0 * (tp + 0.11 * fp + 1.0) / 2.0).epsilon(1e-12));
  // reward_low_FP_rate (A_FP 0.22).
  CHECK(s.time.nab_low_fp == Approx(100.0 * (tp + 0.22 * fp + 1.0) / 2.0).epsilon(1e-12));
  // reward_low_FN_rate (A_FN 2): null = -2, perfect = 1.
  CHECK(s.time.nab_low_fn == Approx(100.0 * (tp + 0.11 * fp + 2.0) / 3.0).epsilon(1e-12));

  // Ranges (TimeEval's defaults): real 40..49, predicted 41..43 and 69..70. Precision is
  // the mean over predicted ranges of their covered share: (3/3 + 0) / 2 = 0.5; recall (alpha
  // 0) the covered share of the real range: 3 / 10. TimeEval's RANGE_F1 takes recall with
  // alpha 0.5: 0.5 x 1 (it exists) + 0.5 x 0.3 = 0.65, so F1 = 2 x 0.5 x 0.65 / 1.15.
  CHECK(s.time.range_precision == Approx(0.5));
  CHECK(s.time.range_recall == Approx(0.3));
  CHECK(s.time.range_f1 == Approx(2 * 0.5 * 0.65 / 1.15));

  // An alert that never resolves covers the rest of the run: 41..99, 9 of its 59 rows in
  // the window.
  Alert open = alert(42 * kSecond, 1);
  const dosim::Scores o =
      dosim::score(incidents, {open}, 100 * kSecond, {.tolerance = 0, .tick = kSecond});
  CHECK(o.time.range_precision == Approx(9.0 / 59.0));
  CHECK(o.time.range_recall == Approx(9.0 / 10.0));
  CHECK(o.time.nab_standard == Approx(100.0 * (tp + 1.0) / 2.0));

  // No incident: NAB's normalization has nothing to normalize (0); no real range, so
  // range recall is 1 and precision 0 for the alerts that fired.
  const dosim::Scores quiet = dosim::score({}, {a}, 100 * kSecond, {.tick = kSecond});
  CHECK(quiet.time.nab_standard == 0.0);
  CHECK(quiet.time.range_recall == 1.0);
  CHECK(quiet.time.range_precision == 0.0);
}

TEST_CASE("Notification scores count the incidents a notification carried an alert of",
          "[scoring]") {
  // Incident 0 is detected by alerts 0 and 1; only alert 0 reached a receiver, at 1h12m:
  // 12 minutes after its impact began. Incident 2 is detected by alert 2, which no
  // notification carried (it cleared within its group's wait). Incident 1 is silent.
  const std::vector<std::vector<std::int64_t>> matches = {{0}, {0}, {2}, {}};
  const std::vector<SimTime> notified = {1 * kHour + 12 * kMinute, -1, -1, 2 * kHour};
  const dosim::NotificationScores s = dosim::notification_scores(ground_truth(), matches, notified);
  CHECK(s.scored_incidents == 2);
  CHECK(s.notified_incidents == 1);
  CHECK(s.recall == Approx(0.5));
  CHECK(s.time_to_notify.count == 1);
  CHECK(s.time_to_notify.median == 12 * kMinute);
  using ByIncident = std::vector<std::pair<std::int64_t, SimTime>>;
  CHECK(s.by_incident == ByIncident{{0, 12 * kMinute}, {2, -1}});
  // Alerts matching two incidents notify both; the earliest notification counts.
  const auto both = dosim::notification_scores(ground_truth(), {{0, 2}, {0}},
                                               {5 * kHour + 1 * kMinute, 1 * kHour + 3 * kMinute});
  CHECK(both.recall == Approx(1.0));
  CHECK(both.time_to_notify.values == std::vector<SimTime>{1 * kMinute, 3 * kMinute});
}

TEST_CASE("Scoring alerts in time order looks only near each incident, with the same result",
          "[scoring]") {
  // A run's alerts come in time order: matching then searches each incident's window
  // (alerts_near) instead of trying every alert against every incident; the window's edges
  // (impact start, impact end + tolerance) are inside it.
  std::vector<Alert> sorted = hand_alerts();
  sorted.push_back(alert(1 * kHour, 2));                     // at impact start
  sorted.push_back(alert(1 * kHour + 40 * kMinute, 1));      // end + tolerance
  sorted.push_back(alert(1 * kHour + 40 * kMinute + 1, 1));  // just past it
  std::vector<Alert> unsorted = sorted;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Alert& a, const Alert& b) { return a.time < b.time; });
  REQUIRE(dosim::in_time_order(sorted));
  REQUIRE_FALSE(dosim::in_time_order(unsorted));
  const ScoringOptions options{.tolerance = 10 * kMinute};
  const auto fast = dosim::score(ground_truth(), sorted, kRun, options);
  const auto slow = dosim::score(ground_truth(), unsorted, kRun, options);
  CHECK(fast.matched_alerts == slow.matched_alerts);
  CHECK(fast.matched_alerts == 5);  // 0, 1, 3 and the two at the window's edges
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(fast.incidents[i].matched_alerts == slow.incidents[i].matched_alerts);
    CHECK(fast.incidents[i].first_alert == slow.incidents[i].first_alert);
  }
  for (std::size_t a = 0; a < sorted.size(); ++a) {
    std::size_t u = 0;  // the same alert in the unsorted list
    while (unsorted[u].time != sorted[a].time || unsorted[u].service != sorted[a].service) ++u;
    CHECK(fast.alert_matches[a] == slow.alert_matches[u]);
  }
  const auto [first, last] = dosim::alerts_near(sorted, true, ground_truth()[0], options);
  CHECK(sorted[first].time == 1 * kHour);
  CHECK(sorted[last - 1].time == 1 * kHour + 40 * kMinute);
}
